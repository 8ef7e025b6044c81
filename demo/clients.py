"""Realistic clients for demonstrations and benchmarks.

- `generate_clients(n, start=...)` yields rows of `Client` field values (by attname, derived
  fields computed exactly as `clientmgmt.services` computes them) plus the plaintext
  `id_number`: Chinese names with surnames weighted by frequency, valid and unique mobile
  numbers, valid resident ID numbers for about 60% of clients, plausible distributions.
- `seed_clients(n)` writes n of them in bulk: COPY on Postgres (about a million in a few minutes),
  bulk_create elsewhere, each batch in its own transaction, printing its rate. Safe to run again.
- `seed_demo_clients()` creates the few hundred clients of the demo through
  `services.client_create`, so each has its CREATED event and audit row. Idempotent.

Uniqueness without looking anything up: the k-th generated client's phone is an affine
permutation of k over the space of mobile numbers, so distinct k give distinct phones. A bulk run
numbers its clients from the table's current largest id (every earlier bulk client has an id
above its own k), and the demo clients take k from the top of the space, so runs never overlap.
ID numbers are random (region, birth date, sequence): the few that collide with an existing
card are dropped before writing, so the unique index on the ID hash is never hit.
"""

import random
import sys
from bisect import bisect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from itertools import accumulate, islice
from time import perf_counter

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum import numdb

from clientmgmt import consent
from clientmgmt.models import Client, ClientConsent, ClientEvent, ConsentEvent
from clientmgmt.search import build_search_terms
from demo import bulk
from zhongdu import crypto
from zhongdu.masking import mask_id_number
from zhongdu.models import Channel

DEMO_CLIENTS = 300
# The notice the generated history's people were shown: the demo's years are before the
# versioned notice (clientmgmt.consent).
DEMO_NOTICE_VERSION = consent.BEFORE_NOTICES
HISTORY_DAYS = 3 * 365  # clients were registered over the last three years
OPENS, OPEN_SECONDS = 8 * 3600, 10 * 3600  # in opening hours, 08:00-18:00
DEMO_SEED = 2026
COPY_BATCH = 50_000

# --- Names ------------------------------------------------------------------------------------
# The commonest surnames with their approximate share of the population (per 10,000, after the
# 2020 census lists), then a few compound surnames.
SURNAMES = [
    ("王", 712), ("李", 700), ("张", 674), ("刘", 510), ("陈", 461), ("杨", 322), ("黄", 245),
    ("赵", 229), ("吴", 205), ("周", 199), ("徐", 160), ("孙", 156), ("马", 146), ("朱", 130),
    ("胡", 124), ("郭", 119), ("何", 116), ("林", 114), ("高", 108), ("罗", 107), ("郑", 96),
    ("梁", 90), ("谢", 81), ("宋", 75), ("唐", 72), ("许", 67), ("韩", 66), ("冯", 65),
    ("邓", 64), ("曹", 61), ("彭", 59), ("曾", 58), ("肖", 57), ("田", 54), ("董", 53),
    ("袁", 51), ("潘", 50), ("于", 49), ("蒋", 48), ("蔡", 47), ("余", 46), ("杜", 44),
    ("叶", 43), ("程", 42), ("苏", 40), ("魏", 39), ("吕", 38), ("丁", 37), ("任", 36),
    ("沈", 35), ("姚", 34), ("卢", 33), ("姜", 32), ("崔", 31), ("钟", 30), ("谭", 29),
    ("陆", 28), ("汪", 27), ("范", 26), ("金", 25), ("石", 24), ("廖", 23), ("贾", 22),
    ("夏", 22), ("韦", 21), ("付", 21), ("方", 20), ("白", 20), ("邹", 19), ("孟", 19),
    ("熊", 18), ("秦", 18), ("邱", 17), ("江", 17), ("尹", 16), ("薛", 16), ("闫", 15),
    ("段", 15), ("雷", 14), ("侯", 14), ("龙", 13), ("史", 13), ("陶", 12), ("黎", 12),
    ("贺", 12), ("顾", 11), ("毛", 11), ("郝", 11), ("龚", 10), ("邵", 10), ("万", 10),
    ("钱", 9), ("严", 9), ("覃", 9), ("武", 9), ("戴", 9), ("莫", 8), ("孔", 8), ("向", 8),
    ("汤", 8), ("常", 8), ("牛", 8), ("申", 6), ("翟", 5), ("岳", 5), ("乔", 5),
    ("欧阳", 2), ("司马", 1), ("诸葛", 1), ("上官", 1), ("司徒", 1), ("东方", 1), ("皇甫", 1),
]  # fmt: skip
# Given-name characters, commonest first (weighted by rank).
MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳峰建文博志国成亮东海新晨"
    "睿轩豪嘉毅彬昊然泽航立坤鹤松庆"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英玲燕红梅琳莉婷雪慧颖佳倩晶洁萍欣怡悦琪蕾璐瑶雅丹璇涵妍彤薇思梦诗雨"
    "晴岚月兰凤玉春桂琴"
)
SHARED_CHARS = "文晓云嘉欣家思宏永安"

# --- Phones -----------------------------------------------------------------------------------
# Mobile prefixes valid for every 8-digit subscriber number (libphonenumber's CN mobile
# pattern: 13x, 15[0-35-9], 17[0-35-8], 18x, 19[0-35-9]).
MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + [f"15{d}" for d in "012356789"]
    + [f"17{d}" for d in "01235678"]
    + [f"18{d}" for d in range(10)]
    + [f"19{d}" for d in "012356789"]
)
PHONE_SPACE = len(MOBILE_PREFIXES) * 10**8
# k -> (A*k + B) mod PHONE_SPACE is a permutation: A is a prime that divides neither 2, 5 nor
# 23, the factors of PHONE_SPACE. A large A scatters consecutive k over the whole space.
_PHONE_A = 2_654_435_761
_PHONE_B = 1_234_567_891


def phone_for(k: int) -> str:
    """The k-th generated mobile number, in E.164; distinct k give distinct numbers."""
    x = (_PHONE_A * k + _PHONE_B) % PHONE_SPACE
    prefix, subscriber = divmod(x, 10**8)
    return f"+86{MOBILE_PREFIXES[prefix]}{subscriber:08d}"


# --- Resident ID numbers ----------------------------------------------------------------------
# A few large cities outside Henan, for the clients who were born elsewhere.
ELSEWHERE = ["110105", "310115", "440305", "420106", "610113", "370102", "340104", "130102"]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@cache
def _region_table() -> dict[str, list[tuple[int | None, int | None]] | None]:
    """code -> the years it was assigned ([(start, end)], None = always), from python-stdnum's
    own table, so that every number generated passes `stdnum.cn.ric.validate` (which refuses a
    code that did not exist in the year of birth)."""
    table = {}
    for _length, low, high, _props, children in numdb.get("cn/loc").prefixes:
        for _l, county_low, county_high, props, _c in children or []:
            code = low + county_low
            county = props.get("county", "")
            if low != high or county_low != county_high or not county:
                continue
            if code.endswith("00") or code.endswith("01"):  # province, city, "市辖区"
                continue
            ranges = []
            for part in county.split(","):
                if not part.startswith("["):
                    ranges = None
                    break
                start, end = part[1:].split("]")[0].split("-")
                ranges.append((int(start) if start else None, int(end) if end else None))
            table[code] = ranges
    return table


def _assigned_in(ranges, year: int) -> bool:
    if ranges is None:
        return True
    return any((s is None or year >= s) and (e is None or year <= e) for s, e in ranges)


@cache
def _regions_for_year(year: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(Zhengzhou, rest of Henan, elsewhere) region codes that existed in `year`."""
    table = _region_table()
    groups = ([], [], [])
    for code, ranges in table.items():
        if not _assigned_in(ranges, year):
            continue
        if code.startswith("4101"):
            groups[0].append(code)
        elif code.startswith("41"):
            groups[1].append(code)
        elif code in ELSEWHERE:
            groups[2].append(code)
    return tuple(tuple(group) for group in groups)


# --- Distributions ----------------------------------------------------------------------------
# (lowest age, highest age, weight): a dermatology hospital sees children and the elderly, but
# mostly adults of working age.
AGE_BANDS = [
    (0, 12, 9), (13, 19, 7), (20, 29, 20), (30, 39, 22), (40, 49, 18), (50, 59, 12),
    (60, 69, 7), (70, 79, 4), (80, 90, 1),
]  # fmt: skip
EDUCATION = [
    ("", 30), ("primary", 7), ("junior", 15), ("senior", 18), ("college", 12),
    ("bachelor", 14), ("postgraduate", 4),
]  # fmt: skip
FAMILY = [("", 30), ("single", 22), ("married", 40), ("divorced", 4), ("widowed", 4)]
HEALTH = [("", 40), ("good", 34), ("fair", 16), ("chronic", 8), ("poor", 2)]
EXAM = [("", 40), ("never", 15), ("occasional", 30), ("yearly", 15)]
RELATIONS = ["配偶", "父亲", "母亲", "儿子", "女儿", "朋友", "同事"]
OPT_IN_METHODS = ["verbal", "phone", "written", "sms", "web"]
NOTES = [
    "对青霉素过敏。",
    "希望上午来院。",
    "听力不好，电话请大声。",
    "只接受短信联系，勿电话。",
    "由家属陪同就诊。",
    "老客户，介绍多位亲友。",
]


def _weighted(pairs):
    """(values, cumulative weights, total) for `_pick`."""
    values = [value for value, _weight in pairs]
    cumulative = list(accumulate(weight for _value, weight in pairs))
    return values, cumulative, cumulative[-1]


def _ranked(chars: str):
    # Zipf-like: the first characters of each list are much more common than the last.
    return _weighted([(char, 1 / (rank + 3)) for rank, char in enumerate(chars)])


@lru_cache(maxsize=300_000)
def _search_fields(name: str) -> tuple[str, str]:
    # Names repeat (a million clients have about 260,000 distinct names): pypinyin is the slow
    # part of a row when this cache misses.
    return build_search_terms(name)


@dataclass
class ClientGenerator:
    """Deterministic given its seed (and the day): the same seed and k give the same client."""

    seed: int = 0
    channel_ids: tuple[int, ...] = ()
    by_id: int | None = None
    id_share: float = 0.6

    def __post_init__(self):
        self.rng = random.Random(self.seed)  # noqa: S311 (made-up people, not secrets)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        tz = timezone.get_default_timezone()
        # Clients were registered over the last three years, in opening hours (08:00-18:00).
        self.first_day = self.today - timedelta(days=HISTORY_DAYS)
        self.first_midnight = datetime.combine(self.first_day, time(0), tzinfo=tz)
        self._surnames = _weighted(SURNAMES)
        self._male = _ranked(MALE_CHARS + SHARED_CHARS)
        self._female = _ranked(FEMALE_CHARS + SHARED_CHARS)
        self._ages = _weighted([((low, high), weight) for low, high, weight in AGE_BANDS])
        self._education = _weighted(EDUCATION)
        self._family = _weighted(FAMILY)
        self._health = _weighted(HEALTH)
        self._exam = _weighted(EXAM)

    def _pick(self, table):
        # What random.choices(cum_weights=...) does, without its overhead (a dozen per row).
        values, cumulative, total = table
        return values[bisect(cumulative, self.rng.random() * total)]

    def name(self, sex: str) -> str:
        rng = self.rng
        surname = self._pick(self._surnames)
        if sex == "unknown":
            sex = "male" if rng.random() < 0.5 else "female"
        chars = self._male if sex == "male" else self._female
        given = self._pick(chars)
        if rng.random() < 0.75:
            second = self._pick(chars)
            if second != given or rng.random() < 0.3:  # 伟伟 happens, but rarely
                given += second
        return surname + given

    def date_of_birth(self) -> date:
        low, high = self._pick(self._ages)
        age_days = self.rng.randint(low * 365, high * 365 + 364)
        return max(self.today - timedelta(days=age_days), date(1900, 1, 1))

    def id_number(self, born: date, sex: str) -> str:
        zhengzhou, henan, elsewhere = _regions_for_year(born.year)
        r = self.rng.random()
        group = zhengzhou if r < 0.45 else henan if r < 0.9 else elsewhere
        region = self.rng.choice(group or henan)
        # The sequence number's last digit is odd for men, even for women.
        sequence = self.rng.randrange(500) * 2 + (1 if sex == "male" else 0)
        body = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}{sequence:03d}"
        return body + id_check_digit(body)

    def _day(self, after: int = 0) -> int:
        """A day of the history (0 = its first day, HISTORY_DAYS = today), `after` or later."""
        return self.rng.randint(after, HISTORY_DAYS)

    def _moment(self, day: int, *, not_before: datetime | None = None) -> datetime:
        """A time in opening hours on that day of the history, never in the future."""
        seconds = OPENS + self.rng.randrange(OPEN_SECONDS)
        moment = min(self.first_midnight + timedelta(days=day, seconds=seconds), self.now)
        return max(moment, not_before) if not_before else moment

    def profile(self, k: int) -> dict:
        """The k-th client: Client field values by attname, plus `id_number` in plain text."""
        rng = self.rng
        r = rng.random()
        sex = "female" if r < 0.55 else "male" if r < 0.99 else "unknown"
        name = self.name(sex)
        born = self.date_of_birth()
        age = (self.today - born).days // 365
        # Nobody was registered before they were born.
        created_day = self._day(max((born - self.first_day).days, 0))
        created_at = self._moment(created_day)
        phone = phone_for(k)
        id_number = ""
        if sex != "unknown" and rng.random() < self.id_share:
            id_number = self.id_number(born, sex)
        adult = age >= 18
        row = {
            "name": name,
            "sex": sex,
            "date_of_birth": born,
            "education": self._pick(self._education) if adult else "",
            "family_status": self._pick(self._family) if adult else "",
            "health_status": self._pick(self._health),
            "exam_status": self._pick(self._exam) if adult else "",
            "phone": phone,
            "other_contact": "",
            "privacy_contact_name": "",
            "privacy_contact_relation": "",
            "privacy_contact_phone": "",
            "is_patient": rng.random() < 0.88,
            "is_member": rng.random() < 0.12,
            "is_exam_client": rng.random() < 0.1,
            "source_channel_id": (
                rng.choice(self.channel_ids) if self.channel_ids and rng.random() < 0.7 else None
            ),
            # Not columns: what the person said (clientmgmt.consent), written as consent events
            # beside the row (_consent_rows).
            "consents": [],
            "notes": rng.choice(NOTES) if rng.random() < 0.05 else "",
            "last_visit_at": (
                self._moment(self._day(created_day), not_before=created_at)
                if rng.random() < 0.45
                else None
            ),
            "is_vip": False,
            "status": "archived" if rng.random() < 0.01 else "active",
            "merged_into_id": None,
            "created_at": created_at,
            "created_by_id": self.by_id,
            "updated_at": created_at,
            "updated_by_id": self.by_id,
            "id_number": id_number,
        }
        if not (row["is_patient"] or row["is_member"] or row["is_exam_client"]):
            row["is_patient"] = True
        r = rng.random()
        if r < 0.06:
            row["other_contact"] = f"微信 wx{rng.randrange(10**6, 10**8)}"
        elif r < 0.1:
            row["other_contact"] = f"0371-6{rng.randrange(10**6, 10**7 - 1)}"
        if not adult or rng.random() < 0.12:
            # Children come with a parent; some adults name someone to call instead of them.
            row["privacy_contact_name"] = self.name("female" if rng.random() < 0.6 else "male")
            row["privacy_contact_relation"] = "母亲" if not adult else rng.choice(RELATIONS)
            prefix = rng.choice(MOBILE_PREFIXES)
            row["privacy_contact_phone"] = f"+86{prefix}{rng.randrange(10**8):08d}"
        if rng.random() < 0.03:
            row["consents"].append(
                {
                    "purpose": consent.SERVICE_SMS,
                    "granted": False,
                    "at": self._moment(self._day(created_day), not_before=created_at),
                    "method": "",
                }
            )
        elif rng.random() < 0.2:
            row["consents"].append(
                {
                    "purpose": consent.MARKETING_SMS,
                    "granted": True,
                    "at": created_at,
                    "method": rng.choice(OPT_IN_METHODS),
                }
            )
        derive(row)
        return row


def derive(row: dict) -> None:
    """The fields `services._apply` derives, except the ciphertext (see `encrypt_id_numbers`)."""
    row["name_pinyin"], row["search_terms"] = _search_fields(row["name"])
    row["phone_last4"] = row["phone"][-4:] if row["phone"] else ""
    id_number = row["id_number"]
    row["id_number_hash"] = crypto.keyed_hash(id_number) if id_number else None
    row["id_number_masked"] = mask_id_number(id_number)
    row["id_number_encrypted"] = ""


def encrypt_id_numbers(rows) -> None:
    # Fernet is ~10 µs a number, a tenth of a row's generation.
    for row in rows:
        if row["id_number_hash"]:
            row["id_number_encrypted"] = crypto.encrypt(row["id_number"])


def generate_clients(n: int, *, start: int = 0, seed: int | None = None, **options):
    """n clients numbered start, start+1, ... (the number decides the phone)."""
    generator = ClientGenerator(seed=start if seed is None else seed, **options)
    for k in range(start, start + n):
        yield generator.profile(k)


# --- Writing ----------------------------------------------------------------------------------
def _existing_hashes(hashes: list[str]) -> set[str]:
    chunk = 10_000 if connection.vendor == "postgresql" else 500  # SQLite's variable limit
    found = set()
    for i in range(0, len(hashes), chunk):
        found.update(
            Client.objects.filter(id_number_hash__in=hashes[i : i + chunk]).values_list(
                "id_number_hash", flat=True
            )
        )
    return found


def drop_taken_id_numbers(rows) -> int:
    """Forget the ID numbers already on file (or twice in `rows`): those clients are written
    without a card rather than hitting the unique index. Returns how many were dropped."""
    taken = _existing_hashes([row["id_number_hash"] for row in rows if row["id_number_hash"]])
    dropped = 0
    for row in rows:
        digest = row["id_number_hash"]
        if not digest:
            continue
        if digest in taken:
            row.update(id_number="", id_number_hash=None, id_number_masked="")
            row["id_number_encrypted"] = ""
            dropped += 1
        else:
            taken.add(digest)
    return dropped


def _created_event(row) -> dict:
    return {
        "client_id": row["id"],
        "kind": ClientEvent.Kind.CREATED,
        "at": row["created_at"],
        "actor_id": row["created_by_id"],
        "fields": [],
        "detail": "",
    }


def _consent_events(rows) -> list[dict]:
    """The consent events of freshly written clients (their "id" set), as the desk that
    registered them would have recorded them."""
    return [
        {
            "client_id": row["id"],
            "purpose": given["purpose"],
            "granted": given["granted"],
            "notice_version": DEMO_NOTICE_VERSION,
            "at": given["at"],
            "channel": consent.Channel.NEW_CLIENT_FORM,
            "method": given["method"],
            "recorded_by_id": row["created_by_id"],
            "detail": "",
        }
        for row in rows
        for given in row.get("consents", ())
    ]


def _consent_states(events) -> list[dict]:
    # One event per client and purpose here: each is the one in force.
    return [
        {
            "client_id": event["client_id"],
            "purpose": event["purpose"],
            "granted": event["granted"],
            "event_id": event["id"],
        }
        for event in events
    ]


def _write_postgres(rows, events: bool) -> None:
    with connection.cursor() as cursor:
        # A larger pending list lets the GIN index of the search terms take a whole batch
        # before merging it into the index, which costs a third less than merging every 4 MB.
        # seed_clients() vacuums at the end, which flushes it.
        cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
        # Ids are taken from the sequence first, so the CREATED events can point at them.
        for row, pk in zip(rows, bulk.take_ids(cursor, Client, len(rows)), strict=True):
            row["id"] = pk
        bulk.copy_rows(cursor, Client, rows, with_id=True)
        if events:
            bulk.copy_rows(cursor, ClientEvent, [_created_event(row) for row in rows])
        given = _consent_events(rows)
        for event, pk in zip(given, bulk.take_ids(cursor, ConsentEvent, len(given)), strict=True):
            event["id"] = pk
        bulk.copy_rows(cursor, ConsentEvent, given, with_id=True)
        bulk.copy_rows(cursor, ClientConsent, _consent_states(given))


def _write_orm(rows, events: bool) -> None:
    attnames = [f.attname for f in Client._meta.concrete_fields if not f.primary_key]
    objects = [Client(**{name: row[name] for name in attnames if name in row}) for row in rows]
    Client.objects.bulk_create(objects, batch_size=1000)
    if all(obj.pk for obj in objects):  # backends that return the new ids
        for row, obj in zip(rows, objects, strict=True):
            row["id"] = obj.pk
        if events:
            ClientEvent.objects.bulk_create(
                [ClientEvent(**_created_event(row)) for row in rows], batch_size=1000
            )
        given = [ConsentEvent(**event) for event in _consent_events(rows)]
        ConsentEvent.objects.bulk_create(given, batch_size=1000)
        ClientConsent.objects.bulk_create(
            [
                ClientConsent(client_id=e.client_id, purpose=e.purpose, granted=e.granted, event=e)
                for e in given
            ],
            batch_size=1000,
        )


def _batches(rows_in, n: int, size: int):
    """Lists of up to `size` generated rows, ID numbers encrypted, n rows in all."""
    done = 0
    while done < n:
        rows = list(islice(rows_in, min(size, n - done)))
        encrypt_id_numbers(rows)
        done += len(rows)
        yield rows


def seed_clients(
    n: int, *, batch: int = COPY_BATCH, by=None, events: bool = True, seed=None, stdout=None
) -> int:
    """Write n generated clients (and their CREATED events) in batches of `batch`, each in its
    own transaction; print progress and the rate. Returns the number written."""
    out = stdout or sys.stdout
    channel_ids = tuple(Channel.objects.filter(active=True).values_list("pk", flat=True))
    start = Client.objects.aggregate(top=Max("pk"))["top"] or 0
    rows_in = generate_clients(
        n, start=start, seed=seed, channel_ids=channel_ids, by_id=by.pk if by else None
    )
    batches = _batches(rows_in, n, batch)
    write = _write_postgres if connection.vendor == "postgresql" else _write_orm
    began = perf_counter()
    done = dropped = 0
    # One thread generates the next batch while this one is written: the database does most of
    # a COPY's work in its own process, and psycopg2 releases the GIL while it waits. The thread
    # never touches the database (Django connections belong to the thread that opened them).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-clients") as pool:
        upcoming = pool.submit(next, batches, None)
        while (rows := upcoming.result()) is not None:
            upcoming = pool.submit(next, batches, None)
            with transaction.atomic():
                dropped += drop_taken_id_numbers(rows)
                write(rows, events)
            done += len(rows)
            elapsed = perf_counter() - began
            out.write(f"  {done:,}/{n:,} clients, {done / elapsed:,.0f} rows/s\n")
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Flush the GIN pending list, mark pages all-visible and refresh the statistics, so that
        # the first searches are as fast as the later ones.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Client._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {ClientEvent._meta.db_table}")
    elapsed = perf_counter() - began
    out.write(
        f"Seeded {done:,} clients in {elapsed:.1f} s ({done / max(elapsed, 1e-9):,.0f} rows/s)"
        f"{f'; {dropped} duplicate ID numbers left out' if dropped else ''}.\n"
    )
    return done


# --- The demo ---------------------------------------------------------------------------------
def demo_profiles(count: int = DEMO_CLIENTS) -> list[dict]:
    """The demo's clients: always the same ones (fixed seed), numbered from the top of the phone
    space so that bulk-generated clients never share their phones."""
    channel_ids = tuple(Channel.objects.order_by("pk").values_list("pk", flat=True))
    generator = ClientGenerator(seed=DEMO_SEED, channel_ids=channel_ids)
    return [generator.profile(PHONE_SPACE - 1 - i) for i in range(count)]


# What a front-desk form would submit (clientmgmt.services.PLAIN_FIELDS, plus the ID number).
_FORM_FIELDS = [
    "name", "sex", "date_of_birth", "education", "family_status", "health_status",
    "exam_status", "phone", "other_contact", "privacy_contact_name", "privacy_contact_relation",
    "privacy_contact_phone", "is_patient", "is_member", "is_exam_client", "notes", "id_number",
]  # fmt: skip


def seed_demo_clients(count: int = DEMO_CLIENTS, *, by=None) -> int:
    """Create the demo clients that are missing (found by phone), through the service; then date
    them back over the last three years. Returns how many were created."""
    from clientmgmt.services import client_create  # services import the models this module needs

    profiles = demo_profiles(count)
    existing = set(
        Client.objects.filter(phone__in=[p["phone"] for p in profiles]).values_list(
            "phone", flat=True
        )
    )
    missing = [p for p in profiles if p["phone"] not in existing]
    if not missing:
        return 0
    channels = Channel.objects.in_bulk([p["source_channel_id"] for p in missing])
    with transaction.atomic():
        drop_taken_id_numbers(missing)
        for profile in missing:
            data = {name: profile[name] for name in _FORM_FIELDS}
            data["source_channel"] = channels.get(profile["source_channel_id"])
            # What the person said at the desk: each consent as the new-client form records it.
            data["consents"] = {given["purpose"]: given["granted"] for given in profile["consents"]}
            data["consent_method"] = next(
                (given["method"] for given in profile["consents"] if given["granted"]), ""
            )
            client = client_create(data=data, by=by)
            Client.objects.filter(pk=client.pk).update(
                created_at=profile["created_at"],
                updated_at=profile["created_at"],
                last_visit_at=profile["last_visit_at"],
            )
            # Backdated through the plain base manager: the history is append-only.
            ClientEvent._base_manager.filter(client=client).update(at=profile["created_at"])
            for given in profile["consents"]:
                ConsentEvent._base_manager.filter(client=client, purpose=given["purpose"]).update(
                    at=given["at"]
                )
    return len(missing)
