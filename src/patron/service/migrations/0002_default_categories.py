from django.db import migrations

CATEGORIES = (
    ("delivery", "Delivery", "物流配送"),
    ("product", "Product quality", "商品质量"),
    ("price", "Price and billing", "价格与账单"),
    ("staff", "Staff and service", "员工服务"),
    ("returns", "Returns and refunds", "退换货"),
    ("membership", "Membership and points", "会员与积分"),
    ("other", "Other", "其他"),
)


def add(apps, schema_editor):
    Category = apps.get_model("service", "TicketCategory")
    for code, en, zh in CATEGORIES:
        Category.objects.get_or_create(code=code, defaults={"name_en": en, "name_zh": zh})


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
