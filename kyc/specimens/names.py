"""Generic name lists (common surnames and given-name characters) and HK romanisations.

No real person's name is listed: names are drawn character by character from these tables. Mainland
names are simplified and romanised with Unihan pinyin (see ``unihan.py``); Hong Kong names are
traditional and romanised with the Hong Kong government's Cantonese spellings below, which Jyutping
would not give (陳 is ``CHAN``, not ``can4``).
"""

from __future__ import annotations

# Common mainland surnames (simplified). Pinyin comes from Unihan, except where a surname is read
# differently from the character's most common reading (see SURNAME_PINYIN).
MAINLAND_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)

# Unihan's kMandarin gives the commonest reading; as surnames these are read differently.
SURNAME_PINYIN = {"曾": "zeng"}

MAINLAND_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力鹏宇浩然欣怡子涵梓轩晨阳博思雨佳嘉"
    "俊毅峰婷雪琳慧颖海波斌凯鑫宁昊瑞璐悦琪萱铭泽睿一诺天小春晓立志国庆红梅兰云飞翔"
)

# Hong Kong surnames (traditional) and their government romanisation.
HK_SURNAMES = {
    "陳": "CHAN", "李": "LEE", "張": "CHEUNG", "黃": "WONG", "王": "WONG", "林": "LAM", "劉": "LAU",
    "吳": "NG", "梁": "LEUNG", "何": "HO", "鄭": "CHENG", "郭": "KWOK", "馬": "MA", "羅": "LAW",
    "周": "CHOW", "謝": "TSE", "麥": "MAK", "鄧": "TANG", "譚": "TAM", "盧": "LO", "葉": "YIP",
    "蔡": "CHOI", "楊": "YEUNG", "朱": "CHU", "鍾": "CHUNG", "余": "YU", "曾": "TSANG", "許": "HUI",
    "潘": "POON", "蘇": "SO", "袁": "YUEN", "胡": "WU", "徐": "TSUI", "彭": "PANG", "姚": "YIU",
    "馮": "FUNG", "關": "KWAN", "莫": "MOK", "江": "KONG", "簡": "KAN",
}  # fmt: skip

# Hong Kong given-name characters (traditional) and the syllable printed on the card.
HK_GIVEN = {
    "大": "Tai", "文": "Man", "志": "Chi", "明": "Ming", "偉": "Wai", "家": "Ka", "嘉": "Ka",
    "欣": "Yan", "詠": "Wing", "詩": "Sze", "美": "Mei", "玲": "Ling", "傑": "Kit", "俊": "Chun",
    "健": "Kin", "豪": "Ho", "國": "Kwok", "強": "Keung", "子": "Tsz", "浩": "Ho", "華": "Wah",
    "雅": "Nga", "慧": "Wai", "敏": "Man", "穎": "Wing", "琪": "Kei", "思": "Sze", "樂": "Lok",
    "天": "Tin", "銘": "Ming", "德": "Tak", "榮": "Wing", "輝": "Fai", "秀": "Sau", "芳": "Fong",
    "麗": "Lai", "珊": "Shan", "寶": "Po", "兒": "Yee", "霖": "Lam", "朗": "Long", "晴": "Ching",
    "安": "On", "恩": "Yan", "宇": "Yu", "軒": "Hin", "翠": "Chui", "燕": "Yin", "婷": "Ting",
    "小": "Siu", "永": "Wing", "金": "Kam", "耀": "Yiu", "冠": "Koon", "基": "Kei", "少": "Siu",
    "鳳": "Fung", "雲": "Wan", "康": "Hong", "柏": "Pak", "達": "Tat", "煒": "Wai", "倩": "Sin",
}  # fmt: skip

# Provinces and municipalities used for birth, issue and endorsement places (Chinese, pinyin caps).
PROVINCES = {
    "北京": "BEIJING", "上海": "SHANGHAI", "天津": "TIANJIN", "重庆": "CHONGQING", "广东": "GUANGDONG",
    "福建": "FUJIAN", "浙江": "ZHEJIANG", "江苏": "JIANGSU", "山东": "SHANDONG", "河南": "HENAN",
    "湖北": "HUBEI", "湖南": "HUNAN", "四川": "SICHUAN", "河北": "HEBEI", "辽宁": "LIAONING",
    "安徽": "ANHUI", "江西": "JIANGXI", "广西": "GUANGXI", "云南": "YUNNAN", "陕西": "SHAANXI",
}  # fmt: skip

# Cities that print in an endorsement's issue line, keyed by province.
CITIES = {"广东": ("广州", "深圳", "珠海", "东莞"), "福建": ("福州", "厦门"), "浙江": ("杭州", "宁波")}


def all_characters() -> str:
    """Every Chinese character the generator may print in a name or place (for the Unihan table)."""
    chars = set(MAINLAND_SURNAMES + MAINLAND_GIVEN + "".join(HK_SURNAMES) + "".join(HK_GIVEN))
    chars |= set("".join(PROVINCES)) | set("".join(c for cs in CITIES.values() for c in cs))
    return "".join(sorted(chars))
