"""Administrative division codes (GB/T 2260) the platform knows: all of Foshan, the rest of
Guangdong's prefectures and a selection of provinces' prefectures that migrants' ID numbers
start with, plus the older codes (``BIRTHPLACE_CODES``) that ID numbers of people born before
today's districts existed begin with. ``LOCAL_REGION`` is the district the bundled policies are
written for."""

from __future__ import annotations

LOCAL_CITY = "440600"
LOCAL_REGION = "440604"  # 佛山市禅城区 (Chancheng, Foshan)

FOSHAN_DISTRICTS: dict[str, str] = {
    "440604": "佛山市禅城区",
    "440605": "佛山市南海区",
    "440606": "佛山市顺德区",
    "440607": "佛山市三水区",
    "440608": "佛山市高明区",
}

OTHER_REGIONS: dict[str, str] = {
    "440600": "佛山市",
    "440103": "广州市荔湾区",
    "440104": "广州市越秀区",
    "440106": "广州市天河区",
    "440303": "深圳市罗湖区",
    "440304": "深圳市福田区",
    "440305": "深圳市南山区",
    "440402": "珠海市香洲区",
    "440507": "汕头市龙湖区",
    "440703": "江门市蓬江区",
    "440802": "湛江市赤坎区",
    "440902": "茂名市茂南区",
    "441202": "肇庆市端州区",
    "441302": "惠州市惠城区",
    "441402": "梅州市梅江区",
    "441502": "汕尾市城区",
    "441602": "河源市源城区",
    "441702": "阳江市江城区",
    "441802": "清远市清城区",
    "441900": "东莞市",
    "442000": "中山市",
    "445102": "潮州市湘桥区",
    "445202": "揭阳市榕城区",
    "445302": "云浮市云城区",
    "110101": "北京市东城区",
    "310101": "上海市黄浦区",
    "360102": "南昌市东湖区",
    "430102": "长沙市芙蓉区",
    "450103": "南宁市青秀区",
    "510104": "成都市锦江区",
    "420102": "武汉市江岸区",
    "350102": "福州市鼓楼区",
    "410105": "郑州市金水区",
    "520102": "贵阳市南明区",
    "530102": "昆明市五华区",
    "500103": "重庆市渝中区",
}

# An ID number keeps the code of the place and time of birth (GB 11643), so people born before
# 2002 carry Foshan's former districts and counties, and people born before a prefecture had
# districts carry the prefecture's or province's code. Valid as ID prefixes, not as 户籍 today.
BIRTHPLACE_CODES: dict[str, str] = {
    "440602": "佛山市城区(原)",
    "440603": "佛山市石湾区(原)",
    "440621": "三水县(原)",
    "440622": "南海县(原)",
    "440623": "顺德县(原)",
    "440624": "高明县(原)",
    "440681": "顺德市(原)",
    "440682": "南海市(原)",
    "440683": "三水市(原)",
    "440684": "高明市(原)",
    "440000": "广东省",
    "440100": "广州市",
    "440300": "深圳市",
    "440400": "珠海市",
    "440500": "汕头市",
    "440700": "江门市",
    "440800": "湛江市",
    "440900": "茂名市",
    "441200": "肇庆市",
    "441300": "惠州市",
    "441400": "梅州市",
    "441500": "汕尾市",
    "441600": "河源市",
    "441700": "阳江市",
    "441800": "清远市",
    "445100": "潮州市",
    "445200": "揭阳市",
    "445300": "云浮市",
    "360100": "南昌市",
    "430100": "长沙市",
    "450100": "南宁市",
    "510100": "成都市",
    "420100": "武汉市",
    "350100": "福州市",
    "410100": "郑州市",
    "520100": "贵阳市",
    "530100": "昆明市",
}

REGIONS: dict[str, str] = {**FOSHAN_DISTRICTS, **OTHER_REGIONS, **BIRTHPLACE_CODES}


def region_name(code: str) -> str:
    return REGIONS.get(code, code)
