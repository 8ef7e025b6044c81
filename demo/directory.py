"""A realistic dermatology hospital for demonstrations and development: departments, experts with
their weekly clinics, the price list, the channels and the knowledge articles.

`seed_directory()` is idempotent: rows are found by name (or code, or title) and created only when
missing, so running it again adds nothing and keeps whatever an administrator changed since.
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from zhongdu.directory.services import clinic_sessions_generate
from zhongdu.models import (
    Channel,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)

# (name, floor, phone extension, specialties)
DEPARTMENTS = [
    ("皮肤科", "2F", "8201", "湿疹、皮炎、荨麻疹、痤疮、脂溢性皮炎、带状疱疹、手足癣"),
    ("性病科", "3F", "8301", "尖锐湿疣、梅毒、淋病、非淋菌性尿道炎、生殖器疱疹、HPV感染"),
    ("激光美容科", "4F", "8401", "雀斑、黄褐斑、太田痣、祛痣、激光脱毛、痘坑、嫩肤、洗纹身"),
    ("过敏反应科", "2F", "8205", "过敏原检测、脱敏治疗、慢性荨麻疹、接触性皮炎、药疹、特应性皮炎"),
    ("儿童皮肤科", "2F", "8210", "婴幼儿湿疹、尿布皮炎、血管瘤、胎记、儿童白癜风、水痘"),
    ("中医皮肤科", "5F", "8501", "中药调理、针灸、火针、中药熏蒸、慢性湿疹、痤疮、黄褐斑"),
    ("体检中心", "1F", "8101", "入职体检、健康证体检、皮肤健康体检、皮肤镜检查"),
    ("白癜风诊疗中心", "3F", "8310", "白癜风、308准分子激光、窄谱中波紫外线光疗、表皮移植"),
    ("银屑病诊疗中心", "3F", "8320", "银屑病（牛皮癣）、掌跖脓疱病、生物制剂治疗、光疗"),
    ("皮肤外科", "4F", "8420", "色素痣切除、皮肤良性肿物、脂肪瘤、腋臭、瘢痕修复、甲沟炎"),
    ("毛发科", "5F", "8510", "脱发、斑秃、雄激素性脱发、头皮屑、毛发移植咨询"),
    ("检验科", "1F", "8120", "真菌镜检、真菌培养、血常规、梅毒血清学检测、过敏原检测"),
]

# Weekly clinics are written the way the schedule board shows them: 一上 = Monday morning,
# 四下 = Thursday afternoon. The first department listed is where the expert sits.
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6}
HALF_DAYS = {"上": (time(8, 30), time(11, 30)), "下": (time(14, 0), time(17, 0))}


@dataclass(frozen=True)
class DemoExpert:
    name: str
    title: str
    departments: tuple[str, ...]
    specialties: str
    bio: str
    clinics: tuple[str, ...]
    capacity: int


EXPERTS = [
    DemoExpert(
        "王建国",
        "主任医师",
        ("皮肤科", "银屑病诊疗中心"),
        "银屑病、慢性湿疹、疑难皮肤病",
        "从事皮肤病临床工作三十年，擅长银屑病的系统治疗和疑难皮肤病诊断。",
        ("一上", "三上", "五下"),
        30,
    ),
    DemoExpert(
        "李淑芬",
        "主任医师",
        ("白癜风诊疗中心", "皮肤科"),
        "白癜风、黄褐斑、色素性皮肤病",
        "白癜风诊疗中心学科带头人，熟练开展308准分子激光和表皮移植。",
        ("二上", "四上", "六上"),
        25,
    ),
    DemoExpert(
        "张立伟",
        "副主任医师",
        ("性病科",),
        "尖锐湿疣、梅毒、生殖器疱疹、HPV感染",
        "擅长性传播疾病的规范诊治和光动力治疗，注重保护患者隐私。",
        ("一下", "三下", "六上"),
        20,
    ),
    DemoExpert(
        "陈晓燕",
        "副主任医师",
        ("激光美容科",),
        "黄褐斑、太田痣、雀斑、皮秒激光",
        "从事激光美容十五年，擅长色素性疾病的激光治疗。",
        ("二下", "四下", "日上"),
        15,
    ),
    DemoExpert(
        "刘志强",
        "主治医师",
        ("激光美容科",),
        "激光脱毛、痘坑、瘢痕、嫩肤",
        "擅长点阵激光修复痘坑及各部位激光脱毛。",
        ("一上", "五上", "六下"),
        20,
    ),
    DemoExpert(
        "赵敏",
        "主任医师",
        ("过敏反应科",),
        "过敏原检测、慢性荨麻疹、脱敏治疗、药疹",
        "过敏反应科主任，擅长慢性荨麻疹和过敏性疾病的脱敏治疗。",
        ("二上", "五上"),
        25,
    ),
    DemoExpert(
        "孙丽",
        "副主任医师",
        ("儿童皮肤科",),
        "婴幼儿湿疹、血管瘤、胎记、特应性皮炎",
        "专注儿童皮肤病，擅长婴幼儿湿疹护理和血管瘤的早期干预。",
        ("一下", "三上", "六上"),
        20,
    ),
    DemoExpert(
        "周国华",
        "主任中医师",
        ("中医皮肤科",),
        "慢性湿疹、痤疮、黄褐斑、中药调理",
        "全国名老中医药专家学术经验继承人，擅长中药内服外治结合治疗皮肤病。",
        ("二上", "四上"),
        20,
    ),
    DemoExpert(
        "吴桂兰",
        "副主任中医师",
        ("中医皮肤科", "毛发科"),
        "脱发、斑秃、针灸、火针",
        "擅长针灸、火针治疗斑秃和带状疱疹后遗神经痛。",
        ("三下", "五下", "日上"),
        15,
    ),
    DemoExpert(
        "郑海涛",
        "主治医师",
        ("皮肤外科",),
        "色素痣切除、腋臭、皮肤良性肿物、瘢痕修复",
        "擅长皮肤外科美容缝合，切口小、瘢痕轻。",
        ("二下", "四下"),
        10,
    ),
    DemoExpert(
        "冯雪梅",
        "主治医师",
        ("皮肤科",),
        "痤疮、玫瑰痤疮、脂溢性皮炎",
        "擅长痤疮的综合治疗，包括红蓝光、果酸和光动力。",
        ("一上", "二下", "四上", "六下"),
        30,
    ),
    DemoExpert(
        "黄志明",
        "副主任医师",
        ("毛发科",),
        "雄激素性脱发、斑秃、头皮健康",
        "毛发科负责人，擅长毛发镜评估和脱发的综合治疗。",
        ("一下", "四上", "六上"),
        15,
    ),
    DemoExpert(
        "何静",
        "主治医师",
        ("体检中心",),
        "皮肤镜检查、健康体检、皮肤肿瘤筛查",
        "负责体检中心皮肤专科检查和皮肤镜筛查。",
        ("一上", "二上", "三上", "四上", "五上"),
        30,
    ),
    DemoExpert(
        "马俊",
        "副主任医师",
        ("银屑病诊疗中心",),
        "银屑病、掌跖脓疱病、生物制剂治疗",
        "擅长中重度银屑病的生物制剂治疗和长期管理。",
        ("二上", "五下"),
        20,
    ),
    DemoExpert(
        "林晓红",
        "主治医师",
        ("儿童皮肤科", "过敏反应科"),
        "儿童过敏、特应性皮炎、荨麻疹",
        "擅长儿童过敏性皮肤病的诊断与家庭护理指导。",
        ("三下", "日上"),
        15,
    ),
    DemoExpert(
        "高文斌",
        "主任医师",
        ("性病科", "皮肤科"),
        "梅毒、生殖器疱疹、带状疱疹",
        "从事性病防治二十余年，擅长梅毒的规范治疗与随访。",
        ("四下", "日上"),
        20,
    ),
]

R = PriceItem.Category
# (code, name, category, department or None, yuan)
PRICES = [
    ("GH001", "普通门诊挂号费", R.REGISTRATION, None, "10"),
    ("GH002", "副主任医师挂号费", R.REGISTRATION, None, "30"),
    ("GH003", "主任医师挂号费", R.REGISTRATION, None, "50"),
    ("GH004", "知名专家特需挂号费", R.REGISTRATION, None, "100"),
    ("GH005", "中医专家挂号费", R.REGISTRATION, "中医皮肤科", "40"),
    ("GH006", "儿童皮肤科挂号费", R.REGISTRATION, "儿童皮肤科", "20"),
    ("GH007", "复诊挂号费（7天内）", R.REGISTRATION, None, "5"),
    ("JC001", "皮肤镜检查", R.EXAM, "皮肤科", "150"),
    ("JC002", "真菌镜检", R.EXAM, "检验科", "30"),
    ("JC003", "真菌培养及鉴定", R.EXAM, "检验科", "80"),
    ("JC004", "过敏原检测（20项）", R.EXAM, "过敏反应科", "380"),
    ("JC005", "过敏原检测（食物+吸入36项）", R.EXAM, "过敏反应科", "580"),
    ("JC006", "斑贴试验", R.EXAM, "过敏反应科", "260"),
    ("JC007", "伍德灯检查", R.EXAM, "白癜风诊疗中心", "40"),
    ("JC008", "梅毒血清学检测（TPPA+RPR）", R.EXAM, "性病科", "120"),
    ("JC009", "HPV分型检测（23型）", R.EXAM, "性病科", "360"),
    ("JC010", "淋球菌培养", R.EXAM, "检验科", "90"),
    ("JC011", "皮肤病理活检", R.EXAM, "皮肤外科", "300"),
    ("JC012", "VISIA皮肤检测", R.EXAM, "激光美容科", "200"),
    ("JC013", "毛发镜检查", R.EXAM, "毛发科", "120"),
    ("JC014", "血常规", R.EXAM, "检验科", "25"),
    ("JC015", "肝功能", R.EXAM, "检验科", "60"),
    ("JC016", "胸部X线正位片", R.EXAM, "体检中心", "50"),
    ("JC017", "心电图", R.EXAM, "体检中心", "30"),
    ("ZL001", "308准分子激光治疗（每次）", R.TREATMENT, "白癜风诊疗中心", "280"),
    ("ZL002", "窄谱中波紫外线（NB-UVB）光疗（每次）", R.TREATMENT, "银屑病诊疗中心", "120"),
    ("ZL003", "液氮冷冻治疗（每个皮损）", R.TREATMENT, "皮肤科", "50"),
    ("ZL004", "CO2激光治疗（每个皮损）", R.TREATMENT, "性病科", "150"),
    ("ZL005", "光动力治疗（ALA-PDT，每次）", R.TREATMENT, "性病科", "1200"),
    ("ZL006", "红蓝光痤疮治疗（每次）", R.TREATMENT, "皮肤科", "150"),
    ("ZL007", "果酸换肤（全脸）", R.TREATMENT, "激光美容科", "380"),
    ("ZL008", "脱敏注射治疗（每针）", R.TREATMENT, "过敏反应科", "180"),
    ("ZL009", "中药熏蒸（每次）", R.TREATMENT, "中医皮肤科", "120"),
    ("ZL010", "针灸治疗（每次）", R.TREATMENT, "中医皮肤科", "80"),
    ("ZL011", "火针治疗（每次）", R.TREATMENT, "中医皮肤科", "100"),
    ("ZL012", "头皮微针治疗（每次）", R.TREATMENT, "毛发科", "680"),
    ("ZL013", "皮损内注射治疗", R.TREATMENT, "皮肤科", "60"),
    ("ZL014", "换药（小）", R.TREATMENT, "皮肤外科", "30"),
    ("SS001", "色素痣切除术（直径1厘米以内）", R.SURGERY, "皮肤外科", "600"),
    ("SS002", "皮肤良性肿物切除术", R.SURGERY, "皮肤外科", "900"),
    ("SS003", "腋臭微创手术", R.SURGERY, "皮肤外科", "3800"),
    ("SS004", "脂肪瘤切除术", R.SURGERY, "皮肤外科", "1500"),
    ("SS005", "白癜风自体表皮移植术", R.SURGERY, "白癜风诊疗中心", "4500"),
    ("SS006", "瘢痕修复术", R.SURGERY, "皮肤外科", "2800"),
    ("SS007", "甲沟炎拔甲术", R.SURGERY, "皮肤外科", "500"),
    ("TX001", "调Q激光祛斑（每次）", R.SPECIAL_CARE, "激光美容科", "800"),
    ("TX002", "皮秒激光祛斑（全脸）", R.SPECIAL_CARE, "激光美容科", "2800"),
    ("TX003", "冰点激光脱毛（腋下，每次）", R.SPECIAL_CARE, "激光美容科", "300"),
    ("TX004", "冰点激光脱毛（唇周，每次）", R.SPECIAL_CARE, "激光美容科", "200"),
    ("TX005", "点阵激光祛痘坑（全脸）", R.SPECIAL_CARE, "激光美容科", "1800"),
    ("TX006", "强脉冲光嫩肤（全脸）", R.SPECIAL_CARE, "激光美容科", "980"),
    ("TX007", "激光洗纹身（每10平方厘米）", R.SPECIAL_CARE, "激光美容科", "600"),
    ("TX008", "血管瘤脉冲染料激光（每次）", R.SPECIAL_CARE, "儿童皮肤科", "1200"),
    ("TX009", "专家特需门诊服务费", R.SPECIAL_CARE, None, "300"),
    ("TC001", "入职体检套餐", R.PACKAGE, "体检中心", "180"),
    ("TC002", "健康证体检套餐", R.PACKAGE, "体检中心", "100"),
    ("TC003", "皮肤健康体检套餐", R.PACKAGE, "体检中心", "480"),
    ("TC004", "白癜风光疗疗程（308激光10次）", R.PACKAGE, "白癜风诊疗中心", "2500"),
    ("TC005", "痤疮综合治疗疗程（5次）", R.PACKAGE, "皮肤科", "1280"),
    ("TC006", "婴幼儿湿疹护理套餐", R.PACKAGE, "儿童皮肤科", "380"),
    ("TC007", "性病全套筛查", R.PACKAGE, "性病科", "680"),
    ("TC008", "脱发综合调理疗程（3个月）", R.PACKAGE, "毛发科", "3980"),
]

K = Channel.Kind
CHANNELS = [
    ("报纸", K.NEWSPAPER),
    ("电视", K.TV),
    ("广播", K.RADIO),
    ("网络/百度", K.WEB),
    ("微信公众号", K.WEB),
    ("社区义诊", K.COMMUNITY),
    ("老客户介绍", K.REFERRAL),
    ("路过/步行", K.WALK_IN),
    ("其他", K.OTHER),
]

T = KnowledgeArticle.Topic
# (title, topic, keywords, text)
ARTICLES = [
    (
        "医保报销范围",
        T.INSURANCE,
        "医保 社保卡 报销 自费 美容",
        "本院为市医保定点医疗机构。持社保卡挂号，门诊费用按本市医保政策直接结算。\n"
        "激光美容、脱毛、祛斑、洗纹身等美容项目及特需门诊属自费项目，医保不予报销。",
    ),
    (
        "异地医保与新农合",
        T.INSURANCE,
        "异地 外地 新农合 备案 报销",
        "异地参保的患者请先在参保地办理异地就医备案，备案后可持社保卡直接结算；"
        "未备案的请保留发票、费用清单和病历，回参保地按规定报销。",
    ),
    (
        "预约挂号方式",
        T.REGISTRATION,
        "预约 挂号 放号 电话 公众号",
        "可通过客服电话、微信公众号或现场预约。专家号提前7天放号，每天早上7:30放出第7天的号源。\n"
        "预约成功后请于就诊当天携带身份证或社保卡到一楼大厅取号。",
    ),
    (
        "退号与爽约",
        T.REGISTRATION,
        "退号 取消 爽约 改约",
        "就诊前一天17:00前可在公众号或致电客服退号，当天号源不予退号。"
        "90天内爽约3次的，30天内不能再预约专家号。",
    ),
    (
        "儿童就诊须知",
        T.REGISTRATION,
        "儿童 小孩 宝宝 婴儿 监护人",
        "14岁以下的患者请挂儿童皮肤科，须由监护人陪同，并携带孩子的身份证、户口本或医保卡。"
        "二楼设有母婴室。",
    ),
    (
        "308准分子激光",
        T.EQUIPMENT,
        "308 准分子 激光 白癜风 银屑病 斑秃 光疗",
        "308纳米准分子激光是靶向光疗设备，只照射皮损部位，用于白癜风、银屑病和斑秃。"
        "每周治疗2次，每次几分钟，无需麻醉，一般10次为一个疗程。在白癜风诊疗中心（3楼）治疗。",
    ),
    (
        "皮秒激光与调Q激光",
        T.EQUIPMENT,
        "皮秒 调Q 激光 祛斑 太田痣 纹身",
        "皮秒激光和调Q激光用于雀斑、太田痣、黄褐斑和洗纹身。治疗后局部发红结痂属正常现象，"
        "一周内避免暴晒。治疗前须由激光美容科医生面诊评估。",
    ),
    (
        "皮肤镜与VISIA皮肤检测",
        T.EQUIPMENT,
        "皮肤镜 VISIA 检测 痣 筛查",
        "皮肤镜可放大观察色素痣、皮肤肿物，无创、无痛，用于判断是否需要手术切除；"
        "VISIA用于分析色斑、毛孔和皱纹，常用于激光美容治疗前后对比。",
    ),
    (
        "总院地址与交通",
        T.BRANCH,
        "地址 总院 交通 地铁 公交 停车",
        "总院：中都市和平区解放路128号。地铁2号线解放路站B出口步行5分钟；公交12、35、108路解放路站下车。"
        "院内地下停车场前两小时免费。",
    ),
    (
        "东城分院",
        T.BRANCH,
        "分院 东城 地址 门诊时间",
        "东城分院：中都市东城区建设大街66号，开设皮肤科、激光美容科和中医皮肤科门诊，"
        "周一至周六8:30-17:00，周日休息。专家排班以总院公布为准。",
    ),
    (
        "门诊时间",
        T.FAQ,
        "门诊 时间 上班 周末 节假日",
        "总院门诊周一至周日全天开放：上午8:00-11:30，下午14:00-17:30，节假日照常门诊。"
        "激光治疗和手术请提前预约。",
    ),
    (
        "性病科的隐私保护",
        T.POLICY,
        "隐私 保密 性病 匿名",
        "性病科设独立候诊区和一对一诊室，检查结果只告知本人。"
        "电话咨询时不透露来电者的就诊信息，短信通知不提及病名。",
    ),
    (
        "检查结果查询",
        T.FAQ,
        "结果 报告 查询 过敏原 病理",
        "过敏原检测3个工作日出结果，病理活检约7个工作日。可在微信公众号“报告查询”中查看，"
        "或凭取单号到一楼自助机打印。",
    ),
]


def _seed_departments() -> dict[str, Department]:
    departments = {}
    for order, (name, floor, extension, specialties) in enumerate(DEPARTMENTS):
        departments[name], _created = Department.objects.get_or_create(
            name=name,
            defaults={
                "floor": floor,
                "phone_extension": extension,
                "specialties": specialties,
                "sort_order": order,
            },
        )
    return departments


def _seed_experts(departments: dict[str, Department]) -> None:
    for spec in EXPERTS:
        expert, created = Expert.objects.get_or_create(
            name=spec.name,
            defaults={"title": spec.title, "specialties": spec.specialties, "bio": spec.bio},
        )
        if not created:
            continue  # keep the administrator's departments and weekly clinics
        expert.departments.set([departments[name] for name in spec.departments])
        for clinic in spec.clinics:
            start, end = HALF_DAYS[clinic[1]]
            SessionTemplate.objects.create(
                expert=expert,
                department=departments[spec.departments[0]],
                weekday=WEEKDAYS[clinic[0]],
                start_time=start,
                end_time=end,
                capacity=spec.capacity,
            )


def _seed_prices(departments: dict[str, Department], effective: date) -> None:
    for code, name, category, department, yuan in PRICES:
        PriceItem.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "department": departments[department] if department else None,
                "price": Decimal(yuan),
                "effective_date": effective,
            },
        )


@transaction.atomic
def seed_directory(*, weeks: int = 4) -> int:
    """Create the demo hospital's directory where missing and its sessions for `weeks` weeks
    from today; return the number of sessions created."""
    today = timezone.localdate()
    departments = _seed_departments()
    _seed_experts(departments)
    _seed_prices(departments, effective=today.replace(month=1, day=1))
    for name, kind in CHANNELS:
        Channel.objects.get_or_create(name=name, defaults={"kind": kind})
    for title, topic, keywords, body in ARTICLES:
        KnowledgeArticle.objects.get_or_create(
            title=title, defaults={"topic": topic, "keywords": keywords, "body": body}
        )
    return clinic_sessions_generate(start=today, weeks=weeks)
