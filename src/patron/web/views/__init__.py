"""Web pages, one module per area: dashboard, customers, sections not built yet."""
