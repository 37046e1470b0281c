"""Vocabularies of the demo business: menu and shop products, people, places and channels.

Plain data, no logic. The generator in :mod:`patron.demo.generator` draws from these tables;
the weights here are part of the ground truth and are copied into :class:`DemoTruth`.
"""

from __future__ import annotations

from typing import NamedTuple


class Product(NamedTuple):
    sku: str
    name: str
    category: str
    price: int  # yuan, list price
    popularity: float  # relative weight within its category


# Category -> (SKU prefix, cost ratio = unit_cost / unit_price).
CATEGORIES: dict[str, tuple[str, float]] = {
    "素食": ("VEG", 0.28),
    "肉类菜品": ("MEAT", 0.38),
    "海鲜": ("SEA", 0.45),
    "主食": ("STA", 0.25),
    "汤品": ("SOUP", 0.30),
    "饮品": ("DRK", 0.22),
    "甜点": ("DES", 0.25),
    "套餐": ("SET", 0.35),
    "零售-茶叶": ("TEA", 0.55),
    "零售-礼盒": ("GIFT", 0.60),
}
RETAIL_CATEGORIES = ("零售-茶叶", "零售-礼盒")

_MENU: dict[str, list[tuple[str, int, float]]] = {
    "素食": [
        ("清炒时蔬", 18, 10),
        ("地三鲜", 26, 6),
        ("干煸四季豆", 24, 7),
        ("蒜蓉西兰花", 22, 8),
        ("香菇菜心", 20, 7),
        ("罗汉斋", 32, 4),
        ("凉拌黄瓜", 12, 8),
        ("番茄炒蛋", 22, 9),
        ("手撕包菜", 18, 7),
        ("鱼香茄子", 26, 7),
        ("酸辣土豆丝", 16, 9),
        ("素麻婆豆腐", 22, 6),
        ("家常豆腐", 24, 5),
        ("素什锦", 28, 4),
    ],
    "肉类菜品": [
        ("宫保鸡丁", 38, 9),
        ("回锅肉", 42, 7),
        ("红烧肉", 48, 8),
        ("糖醋排骨", 58, 6),
        ("水煮牛肉", 62, 5),
        ("小炒黄牛肉", 58, 6),
        ("辣子鸡", 52, 5),
        ("梅菜扣肉", 48, 6),
        ("孜然羊肉", 68, 3),
        ("白切鸡(半只)", 58, 7),
        ("烧鹅(例)", 68, 6),
        ("鱼香肉丝", 36, 8),
        ("京酱肉丝", 38, 5),
        ("黑椒牛柳", 66, 4),
    ],
    "海鲜": [
        ("清蒸鲈鱼", 78, 8),
        ("椒盐九节虾", 88, 5),
        ("蒜蓉粉丝蒸扇贝", 68, 7),
        ("酸菜鱼", 72, 10),
        ("白灼基围虾", 98, 5),
        ("避风塘炒蟹", 168, 2),
        ("姜葱炒花甲", 48, 6),
    ],
    "主食": [
        ("米饭", 3, 14),
        ("扬州炒饭", 22, 8),
        ("干炒牛河", 28, 8),
        ("阳春面", 16, 5),
        ("葱油拌面", 18, 5),
        ("鲜肉小笼包", 22, 6),
        ("韭菜猪肉水饺", 24, 5),
        ("皮蛋瘦肉粥", 16, 6),
        ("腊味煲仔饭", 32, 5),
    ],
    "汤品": [
        ("例汤", 12, 10),
        ("番茄蛋花汤", 16, 6),
        ("紫菜蛋花汤", 14, 5),
        ("老火靓汤", 38, 6),
        ("冬瓜排骨汤", 36, 4),
        ("鲫鱼豆腐汤", 42, 3),
    ],
    "饮品": [
        ("可乐", 6, 9),
        ("雪碧", 6, 5),
        ("豆浆", 6, 6),
        ("柠檬茶", 12, 10),
        ("酸梅汤", 10, 7),
        ("珍珠奶茶", 16, 9),
        ("鲜榨橙汁", 22, 4),
        ("杨枝甘露", 26, 5),
        ("青岛啤酒", 12, 6),
        ("王老吉", 8, 6),
        ("美式咖啡", 18, 4),
    ],
    "甜点": [
        ("双皮奶", 16, 8),
        ("芒果班戟", 22, 6),
        ("红豆沙", 12, 5),
        ("葡式蛋挞", 8, 9),
        ("椰汁糕", 14, 5),
        ("姜撞奶", 16, 4),
    ],
    "套餐": [
        ("学生午餐套餐", 19, 8),
        ("工作日简餐", 26, 9),
        ("单人午市套餐", 32, 10),
        ("素食养生套餐", 38, 4),
        ("商务套餐", 68, 6),
        ("双人套餐", 128, 5),
        ("四人家庭套餐", 268, 2),
    ],
    "零售-茶叶": [
        ("茉莉花茶(罐)", 48, 8),
        ("铁观音(罐)", 128, 6),
        ("凤凰单丛(罐)", 158, 5),
        ("普洱茶饼", 198, 4),
        ("金骏眉(罐)", 238, 3),
        ("西湖龙井(罐)", 268, 3),
    ],
    "零售-礼盒": [
        ("坚果礼盒", 158, 6),
        ("广式月饼礼盒", 198, 8),
        ("腊味礼盒", 268, 5),
        ("年货礼盒", 398, 4),
        ("茶叶礼盒", 588, 2),
        ("双黄白莲蓉月饼礼盒", 688, 2),
    ],
}

PRODUCTS: list[Product] = [
    Product(f"{CATEGORIES[category][0]}-{i + 1:03d}", name, category, price, popularity)
    for category, items in _MENU.items()
    for i, (name, price, popularity) in enumerate(items)
]


class Occupation(NamedTuple):
    name: str
    share: float  # base share before the tilts
    # Logit slopes on the customer's quantile (rank, 0..1) of spend ζ, purchase rate λ and
    # dropout probability p: the occupation is drawn from the traits, so the traits keep the
    # stated Gamma and Beta distributions while, say, students end up cheap and short-lived.
    spend_tilt: float
    frequency_tilt: float
    dropout_tilt: float
    adult_age: tuple[int, int]  # age range in years at the observation end


OCCUPATIONS: list[Occupation] = [
    Occupation("学生", 0.18, -3.0, -0.5, 1.5, (17, 25)),
    Occupation("白领", 0.22, 0.8, 0.3, 0.3, (23, 45)),
    Occupation("教师", 0.06, 0.0, 0.0, -0.3, (25, 58)),
    Occupation("公务员", 0.05, 0.8, 0.0, -0.5, (25, 58)),
    Occupation("自由职业", 0.08, 0.0, 0.0, 0.0, (22, 50)),
    Occupation("退休", 0.08, -0.5, 0.5, -0.8, (56, 80)),
    Occupation("工程师", 0.10, 0.8, 0.2, 0.0, (23, 50)),
    Occupation("医生", 0.04, 1.2, -0.3, -0.3, (27, 60)),
    Occupation("个体户", 0.09, 1.5, 0.0, 0.0, (25, 60)),
    Occupation("销售", 0.04, 0.5, 0.0, 0.3, (22, 50)),
    Occupation("服务业", 0.06, -0.8, 0.0, 0.5, (19, 50)),
]

# Category preference per segment (occupation, plus B2B buyers), in CATEGORIES order.
# Relative weights; the truth carries them normalised.
B2B_SEGMENT = "企业客户"
_PREFERENCE: dict[str, list[float]] = {
    #        素食 肉类 海鲜 主食 汤品 饮品 甜点 套餐 茶叶 礼盒
    "学生": [40, 8, 1, 18, 3, 15, 8, 6, 0.5, 0.5],
    "白领": [8, 16, 6, 8, 4, 20, 6, 28, 2, 2],
    "教师": [14, 18, 6, 12, 8, 12, 6, 16, 6, 2],
    "公务员": [8, 22, 10, 8, 8, 10, 4, 16, 8, 6],
    "自由职业": [12, 20, 6, 12, 6, 16, 8, 14, 4, 2],
    "退休": [16, 16, 8, 12, 16, 6, 4, 6, 12, 4],
    "工程师": [8, 22, 6, 14, 4, 18, 4, 20, 2, 2],
    "医生": [10, 20, 12, 8, 10, 10, 6, 14, 6, 4],
    "个体户": [6, 24, 14, 8, 6, 10, 4, 10, 8, 10],
    "销售": [8, 22, 10, 8, 6, 14, 4, 16, 6, 6],
    "服务业": [14, 18, 4, 18, 4, 14, 6, 18, 2, 2],
    B2B_SEGMENT: [2, 10, 6, 2, 2, 6, 4, 20, 18, 30],
}


def category_preference() -> dict[str, dict[str, float]]:
    """Segment -> category -> probability of a line's category (before price fitting)."""
    out: dict[str, dict[str, float]] = {}
    for segment, weights in _PREFERENCE.items():
        total = sum(weights)
        out[segment] = {c: round(w / total, 6) for c, w in zip(CATEGORIES, weights, strict=True)}
    return out


# (province, city, weight, home stores reachable from there; empty = online only)
REGIONS: list[tuple[str, str, float, tuple[str, ...]]] = [
    ("广东省", "深圳市", 0.46, ("南山店", "福田店", "罗湖店", "宝安店")),
    ("广东省", "广州市", 0.10, ("天河店",)),
    ("广东省", "东莞市", 0.05, ("宝安店",)),
    ("广东省", "佛山市", 0.03, ("天河店",)),
    ("广东省", "惠州市", 0.02, ("罗湖店",)),
    ("广东省", "珠海市", 0.02, ()),
    ("湖南省", "长沙市", 0.04, ()),
    ("湖北省", "武汉市", 0.03, ()),
    ("江西省", "南昌市", 0.02, ()),
    ("广西壮族自治区", "南宁市", 0.03, ()),
    ("福建省", "厦门市", 0.02, ()),
    ("福建省", "福州市", 0.02, ()),
    ("四川省", "成都市", 0.03, ()),
    ("上海市", "上海市", 0.03, ()),
    ("北京市", "北京市", 0.03, ()),
    ("浙江省", "杭州市", 0.03, ()),
    ("江苏省", "南京市", 0.02, ()),
    ("河南省", "郑州市", 0.02, ()),
]
ONLINE_STORE = "线上商城"
STORES: tuple[str, ...] = ("南山店", "福田店", "罗湖店", "宝安店", "天河店", ONLINE_STORE)
ORDER_CHANNELS: tuple[str, ...] = ("门店", "外卖", "小程序")

# (channel, share, mean acquisition cost in yuan)
ACQUISITION_CHANNELS: list[tuple[str, float, float]] = [
    ("门店", 0.30, 8.0),
    ("美团", 0.17, 35.0),
    ("大众点评", 0.12, 30.0),
    ("微信小程序", 0.15, 15.0),
    ("抖音", 0.10, 45.0),
    ("朋友推荐", 0.11, 20.0),
    ("淘宝", 0.05, 40.0),
]
B2B_ACQUISITION = ("企业团购", 400.0)

# (surname, pinyin, weight in percent); weights roughly follow national frequencies,
# with the southern surnames (陈, 黄, 梁, 钟, 林) a little heavier for Guangdong.
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 5.5), ("杨", "yang", 3.1), ("黄", "huang", 3.0), ("赵", "zhao", 2.0),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.1), ("朱", "zhu", 1.1), ("胡", "hu", 1.0), ("郭", "guo", 1.0),
    ("何", "he", 1.0), ("林", "lin", 1.2), ("高", "gao", 0.9), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.8), ("梁", "liang", 1.1), ("谢", "xie", 0.7), ("宋", "song", 0.6),
    ("唐", "tang", 0.6), ("许", "xu", 0.6), ("邓", "deng", 0.7), ("冯", "feng", 0.6),
    ("韩", "han", 0.6), ("曹", "cao", 0.5), ("曾", "zeng", 0.6), ("彭", "peng", 0.5),
    ("萧", "xiao", 0.4), ("蔡", "cai", 0.5), ("潘", "pan", 0.4), ("田", "tian", 0.4),
    ("董", "dong", 0.4), ("袁", "yuan", 0.4), ("于", "yu", 0.4), ("余", "yu", 0.4),
    ("叶", "ye", 0.5), ("蒋", "jiang", 0.4), ("杜", "du", 0.3), ("苏", "su", 0.3),
    ("魏", "wei", 0.3), ("程", "cheng", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("沈", "shen", 0.3), ("任", "ren", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("钟", "zhong", 0.5), ("欧阳", "ouyang", 0.05),
]  # fmt: skip

# Given-name characters with pinyin, by gender ('u' uses the neutral list).
GIVEN_M: list[tuple[str, str]] = [
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"),
    ("浩", "hao"), ("宇", "yu"), ("轩", "xuan"), ("俊", "jun"), ("峰", "feng"),
    ("博", "bo"), ("斌", "bin"), ("志", "zhi"), ("刚", "gang"), ("亮", "liang"),
    ("天", "tian"), ("睿", "rui"), ("泽", "ze"), ("凯", "kai"), ("昊", "hao"),
]  # fmt: skip
GIVEN_F: list[tuple[str, str]] = [
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("婷", "ting"), ("雪", "xue"),
    ("慧", "hui"), ("琳", "lin"), ("欣", "xin"), ("悦", "yue"), ("怡", "yi"),
    ("佳", "jia"), ("颖", "ying"), ("梅", "mei"), ("玲", "ling"), ("萍", "ping"),
    ("晓", "xiao"), ("思", "si"), ("诗", "shi"), ("婉", "wan"), ("倩", "qian"),
    ("蕾", "lei"), ("璐", "lu"), ("瑶", "yao"), ("紫", "zi"), ("涵", "han"),
]  # fmt: skip
GIVEN_U: list[tuple[str, str]] = [
    ("文", "wen"), ("晨", "chen"), ("子", "zi"), ("雨", "yu"), ("安", "an"),
    ("一", "yi"), ("嘉", "jia"), ("乐", "le"), ("心", "xin"), ("宁", "ning"),
]  # fmt: skip
ENGLISH_M = ("Kevin", "Jason", "David", "Tony", "Eric", "Jack", "Leo", "Michael", "Peter")
ENGLISH_F = ("Emily", "Grace", "Linda", "Vivian", "Cindy", "Amy", "Sophia", "Helen", "Coco")

EMAIL_DOMAINS: list[tuple[str, float]] = [
    ("qq.com", 0.45),
    ("163.com", 0.20),
    ("126.com", 0.08),
    ("foxmail.com", 0.06),
    ("sina.com", 0.04),
    ("gmail.com", 0.09),
    ("outlook.com", 0.08),
]

# China mobile number prefixes (first three digits).
MOBILE_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157,
    158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189,
    191, 198, 199,
)  # fmt: skip

COMPANY_BRANDS = (
    "鑫盛", "华泰", "恒达", "宏远", "瑞丰", "嘉禾", "锦程", "盛世", "和信", "骏德",
    "金穗", "海阔", "汇源", "天成", "同创", "博雅", "新锐", "广联", "润泽", "星辰",
)  # fmt: skip
COMPANY_TRADES = (
    "贸易", "科技", "文化传媒", "物业管理", "餐饮管理", "电子", "建筑工程", "商贸", "投资咨询",
)  # fmt: skip

TAGS = ("VIP", "素食偏好", "不吃辣", "生日会员", "外卖常客", "企业客户", "老客户", "爱喝茶")

INTERACTION_KINDS = ("visit", "call", "email", "complaint", "note", "survey")
INTERACTION_KIND_SHARES = (0.30, 0.18, 0.08, 0.10, 0.16, 0.18)
INTERACTION_CHANNELS = ("门店", "电话", "微信", "邮件")
# kind -> (channel weights in INTERACTION_CHANNELS order, texts)
INTERACTION_TEXTS: dict[str, tuple[tuple[float, float, float, float], tuple[str, ...]]] = {
    "visit": (
        (1, 0, 0, 0),
        (
            "到店用餐，询问会员积分",
            "到店咨询中秋礼盒",
            "带朋友到店聚餐",
            "到店办理会员卡",
            "到店领取生日优惠券",
            "到店试吃新品",
        ),
    ),
    "call": (
        (0, 1, 0, 0),
        (
            "电话预订周末包间",
            "来电询问外卖配送范围",
            "回访：对上次用餐满意",
            "来电咨询企业团购报价",
            "来电询问营业时间",
        ),
    ),
    "email": (
        (0, 0, 0, 1),
        ("发送会员月度优惠", "客户邮件咨询发票开具", "发送新品上市通知", "客户邮件询问礼盒定制"),
    ),
    "complaint": (
        (0.4, 0.3, 0.3, 0),
        (
            "外卖送达时菜品已凉",
            "菜品口味偏咸",
            "等位时间过长",
            "上菜速度慢",
            "服务员态度一般",
            "菜品分量比以前少",
        ),
    ),
    "note": (
        (0.6, 0, 0.4, 0),
        (
            "客户对花生过敏",
            "偏好靠窗座位",
            "喜欢少辣",
            "生日在下月，可送优惠券",
            "常点素食，可推荐素食套餐",
            "公司聚餐联系人",
        ),
    ),
    "survey": (
        (0, 0, 0.8, 0.2),
        (
            "满意度调查：5分，非常满意",
            "满意度调查：4分，建议增加素食品种",
            "满意度调查：4分，环境不错",
            "满意度调查：3分，价格偏高",
            "满意度调查：2分，服务需要改进",
        ),
    ),
}
RETURN_COMPLAINT_TEXTS = (
    "礼盒包装破损，申请退货",
    "菜品有异物，已退款",
    "外卖漏送菜品，申请退款",
    "口味不符合预期，已退款",
)
