"""Rates and opening hours of the demo business; the rates are copied into the truth."""

from __future__ import annotations

# Rates of the business; all of them are copied into the truth.
BIRTHS = {"opening_share": 0.25, "opening_days": 90.0}  # the rest uniform over the period
B2B_SHARE = 0.03
RETURN_RATE = 0.025
RETURN_DELAY_DAYS = (1.0, 10.0)
FULL_RETURN_SHARE = 0.6
DUPLICATE_RATE = 0.01
MALFORMED_PHONE_RATE = 0.02
FORMATTED_PHONE_RATE = 0.03
EMAIL_RATE = 0.40
INTERACTIONS_PER_CUSTOMER = 0.3
RETURN_COMPLAINT_SHARE = 0.3
DELIVERY_BETA = (1.5, 4.0)  # per-customer share of orders as 外卖
APP_SHARE = 0.12  # share of a store customer's orders through the 小程序

SHOP_OPENS_H = 10  # local shop day 10:00-22:00, Asia/Shanghai (UTC+8, no DST)
SHOP_HOURS = 12
UTC_OFFSET_H = 8
# Relative traffic of each shop hour, 10:00 to 21:00 (lunch and dinner peaks).
HOURLY_TRAFFIC = (3.0, 8.0, 14.0, 10.0, 5.0, 4.0, 5.0, 9.0, 13.0, 11.0, 6.0, 3.0)
