"""Words and number/date formats of the reports in en, fr, ar, ru and fa.

The labels live here as a table (not gettext catalogues) because reports are the only consumer and a translator
reviews them side by side. Numbers and dates go through Babel; Persian uses its native digits, Arabic the Latin
digits CLDR gives by default (the usage of most Arab administrations in print).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup, escape

from accord import clock

__all__ = ["LANGS", "RTL", "Words", "words"]

LANGS = ("en", "fr", "ar", "ru", "fa")
RTL = frozenset({"ar", "fa"})
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# key: (en, fr, ar, ru, fa)
_T: dict[str, tuple[str, str, str, str, str]] = {
    "centre": ("Information-Exchange Centre", "Centre d'échange d'informations", "مركز تبادل المعلومات",
               "Центр обмена информацией", "مرکز تبادل اطلاعات"),
    "activity_report": ("Activity report", "Rapport d'activité", "تقرير النشاط", "Отчёт о деятельности",
                        "گزارش فعالیت"),
    "communique": ("Communiqué", "Communiqué", "بيان ختامي", "Коммюнике", "بیانیه پایانی"),
    "restricted": ("Restricted distribution", "Diffusion restreinte", "توزيع محدود", "Ограниченного распространения",
                   "توزیع محدود"),
    "period": ("Period under review", "Période considérée", "الفترة المشمولة", "Отчётный период",
               "دوره مورد بررسی"),
    "member": ("Member", "Membre", "العضو", "Участник", "عضو"),
    "all_members": ("All members", "Tous les membres", "جميع الأعضاء", "Все участники", "همه اعضا"),
    "prepared_for": ("Prepared for {user} ({member}). The figures count only the items released to this reader.",
                     "Établi pour {user} ({member}). Les chiffres ne comptent que les éléments diffusés à ce "
                     "lecteur.",
                     "أُعدّ لـ {user} ({member}). لا تحتسب الأرقام إلا العناصر المُتاحة لهذا القارئ.",
                     "Подготовлено для {user} ({member}). Учитываются только материалы, доступные этому читателю.",
                     "تهیه‌شده برای {user} ({member}). ارقام فقط اقلامی را می‌شمارند که در دسترس این خواننده است."),
    "key_figures": ("Key figures", "Chiffres clés", "أرقام رئيسية", "Основные показатели", "ارقام کلیدی"),
    "by_kind": ("Items shared, by kind", "Éléments partagés, par nature", "العناصر المتقاسَمة حسب النوع",
                "Переданные материалы по видам", "اقلام به اشتراک گذاشته‌شده بر حسب نوع"),
    "by_member": ("Items shared, by member", "Éléments partagés, par membre", "العناصر المتقاسَمة حسب العضو",
                  "Переданные материалы по участникам", "اقلام به اشتراک گذاشته‌شده بر حسب عضو"),
    "this_period": ("This period", "Période", "هذه الفترة", "Текущий период", "این دوره"),
    "previous_period": ("Previous period", "Période précédente", "الفترة السابقة", "Предыдущий период", "دوره قبل"),
    "change": ("Change", "Évolution", "التغير", "Изменение", "تغییر"),
    "total": ("Total", "Total", "المجموع", "Итого", "جمع"),
    "released_to": ("Release of the items", "Diffusion des éléments", "الإفراج عن العناصر",
                    "Распространение материалов", "انتشار اقلام"),
    "released_to_member": ("Released to {member}", "Diffusés à {member}", "مُتاحة لـ {member}",
                           "Передано: {member}", "منتشرشده برای {member}"),
    "released_members": ("Released to at least one other member", "Diffusés à au moins un autre membre",
                         "مُتاحة لعضو آخر على الأقل", "Переданы хотя бы одному другому участнику",
                         "منتشرشده دست‌کم برای یک عضو دیگر"),
    "released_consumers": ("Passed on to the members' downstream units", "Transmis aux unités destinataires des "
                           "membres", "أُحيلت إلى الوحدات المستفيدة لدى الأعضاء",
                           "Переданы подразделениям участников", "ارسال‌شده به واحدهای زیرمجموعه اعضا"),
    "weekly": ("Activity week by week", "Activité semaine par semaine", "النشاط أسبوعاً بأسبوع",
               "Активность по неделям", "فعالیت هفته به هفته"),
    "over_time": ("Activity over the period", "Activité au fil de la période", "النشاط على امتداد الفترة",
                  "Активность за период", "فعالیت در طول دوره"),
    "bars_legend": ("Dark: this period. Light: previous period. Bars are numbered as the rows of the table.",
                    "Foncé : période considérée. Clair : période précédente. Les barres sont numérotées comme les "
                    "lignes du tableau.",
                    "الداكن: هذه الفترة. الفاتح: الفترة السابقة. الأعمدة مرقّمة بترقيم صفوف الجدول.",
                    "Тёмные: текущий период. Светлые: предыдущий период. Столбцы пронумерованы как строки таблицы.",
                    "تیره: این دوره. روشن: دوره قبل. ستون‌ها به ترتیب ردیف‌های جدول شماره‌گذاری شده‌اند."),
    "weekly_legend": ("Dark: geographic coordinates. Light: information items.",
                      "Foncé : coordonnées géographiques. Clair : éléments d'information.",
                      "الداكن: إحداثيات جغرافية. الفاتح: عناصر معلومات.",
                      "Тёмные: географические координаты. Светлые: информационные материалы.",
                      "تیره: مختصات جغرافیایی. روشن: اقلام اطلاعاتی."),
    "density": ("Where the observations were made", "Lieux des observations", "مواقع المشاهدات",
                "Места наблюдений", "محل مشاهدات"),
    "density_note": ("Number of observations per cell; country outlines: Natural Earth.",
                     "Nombre d'observations par cellule ; contours des pays : Natural Earth.",
                     "عدد المشاهدات في كل خلية؛ حدود الدول: Natural Earth.",
                     "Число наблюдений в ячейке; границы стран: Natural Earth.",
                     "تعداد مشاهدات در هر خانه؛ مرز کشورها: Natural Earth."),
    "no_observations": ("No observation in this period.", "Aucune observation sur la période.",
                        "لا توجد مشاهدات في هذه الفترة.", "За период наблюдений нет.", "در این دوره مشاهده‌ای نیست."),
    "sources": ("How the figures were obtained", "Origine des chiffres", "مصدر الأرقام", "Происхождение показателей",
                "منشأ ارقام"),
    "sources_note": ("Each figure is computed from the centre's records by the query shown. The same query run on "
                     "the same records gives the same figure; authorised readers can list the items behind it.",
                     "Chaque chiffre est calculé à partir des enregistrements du centre par la requête indiquée. "
                     "La même requête sur les mêmes enregistrements donne le même chiffre ; les lecteurs autorisés "
                     "peuvent consulter la liste des éléments correspondants.",
                     "يُحتسب كل رقم من سجلات المركز بالاستعلام المبيَّن. ويعطي الاستعلام نفسه على السجلات نفسها "
                     "الرقمَ نفسه، ويمكن للقرّاء المخوَّلين الاطلاع على قائمة العناصر التي يستند إليها.",
                     "Каждый показатель вычислен по записям центра указанным запросом. Тот же запрос по тем же "
                     "записям даёт тот же результат; уполномоченные читатели могут просмотреть перечень материалов.",
                     "هر رقم با پرس‌وجوی نشان‌داده‌شده از سوابق مرکز محاسبه می‌شود. همان پرس‌وجو روی همان سوابق همان "
                     "رقم را می‌دهد؛ خوانندگان مجاز می‌توانند فهرست اقلام پشتوانهٔ آن را ببینند."),
    "figure": ("Figure", "Chiffre", "الرقم", "Показатель", "رقم"),
    "query": ("Query", "Requête", "الاستعلام", "Запрос", "پرس‌وجو"),
    "value": ("Value", "Valeur", "القيمة", "Значение", "مقدار"),
    "participants": ("Participating members", "Membres participants", "الأعضاء المشاركون", "Участники заседания",
                     "اعضای شرکت‌کننده"),
    "chair": ("Chair", "Présidence", "الرئاسة", "Председательство", "ریاست"),
    "place": ("Place", "Lieu", "المكان", "Место", "محل"),
    "date": ("Date", "Date", "التاريخ", "Дата", "تاریخ"),
    "agenda": ("Agenda", "Ordre du jour", "جدول الأعمال", "Повестка дня", "دستور جلسه"),
    "figures_title": ("The centre's activity in figures", "L'activité du centre en chiffres",
                      "نشاط المركز بالأرقام", "Деятельность центра в цифрах", "فعالیت مرکز به زبان ارقام"),
    "approvals": ("Approval by the members", "Approbation par les membres", "موافقة الأعضاء",
                  "Одобрение участниками", "تأیید اعضا"),
    "approved": ("Approved", "Approuvé", "تمت الموافقة", "Одобрено", "تأیید شد"),
    "awaiting": ("Awaiting approval", "En attente d'approbation", "بانتظار الموافقة", "Ожидает одобрения",
                 "در انتظار تأیید"),
    "published_on": ("Published on {date}", "Publié le {date}", "نُشر في {date}", "Опубликовано {date}",
                     "منتشرشده در {date}"),
    "draft_mark": ("Draft — not approved", "Projet — non approuvé", "مسودة — غير معتمدة", "Проект — не утверждён",
                   "پیش‌نویس — تأییدنشده"),
    "reference": ("Reference", "Référence", "المرجع", "Ссылка", "مرجع"),
    "generated": ("Produced on {date}", "Établi le {date}", "أُعدّ في {date}", "Составлено {date}",
                  "تهیه‌شده در {date}"),
    "page": ("Page", "Page", "صفحة", "Стр.", "صفحه"),
    "original_text": ("This text was not drafted in this language; the original follows.",
                      "Ce texte n'a pas été rédigé dans cette langue ; la version originale suit.",
                      "لم يُحرَّر هذا النص بهذه اللغة؛ ويلي النص الأصلي.",
                      "Текст не составлялся на этом языке; ниже приводится оригинал.",
                      "این متن به این زبان نگارش نشده است؛ متن اصلی در ادامه آمده است."),
    "recipients": ("Recipients", "Destinataires", "الجهات المتلقية", "Получатели", "گیرندگان"),
    "aud_any": ("all items recorded", "tous les éléments enregistrés", "جميع العناصر المسجَّلة",
                "все зарегистрированные материалы", "همه اقلام ثبت‌شده"),
    "aud_members": ("the other members", "les autres membres", "الأعضاء الآخرون", "другие участники",
                    "سایر اعضا"),
    "aud_consumers": ("the members' downstream units", "les unités destinataires des membres",
                      "الوحدات المستفيدة لدى الأعضاء", "подразделения участников", "واحدهای زیرمجموعه اعضا"),
    "fig_items": ("Items shared", "Éléments partagés", "العناصر المتقاسَمة", "Переданные материалы",
                  "اقلام به اشتراک گذاشته‌شده"),
    "fig_observations": ("Geographic coordinates", "Coordonnées géographiques", "إحداثيات جغرافية",
                         "Географические координаты", "مختصات جغرافیایی"),
    "fig_information": ("Information items", "Éléments d'information", "عناصر معلومات", "Информационные материалы",
                        "اقلام اطلاعاتی"),
    "fig_reports": ("Reports", "Rapports", "تقارير", "Доклады", "گزارش‌ها"),
    "fig_entities": ("Entities (persons, groups, organisations)", "Entités (personnes, groupes, organisations)",
                     "كيانات (أشخاص، جماعات، منظمات)", "Объекты (лица, группы, организации)",
                     "نهادها (اشخاص، گروه‌ها، سازمان‌ها)"),
    "kind_observation": ("Geographic coordinates (observations)", "Coordonnées géographiques (observations)",
                         "إحداثيات جغرافية (مشاهدات)", "Географические координаты (наблюдения)",
                         "مختصات جغرافیایی (مشاهدات)"),
    "kind_report": ("Reports", "Rapports", "تقارير", "Доклады", "گزارش‌ها"),
    "kind_entity": ("Entities", "Entités", "كيانات", "Объекты", "نهادها"),
    "kind_relationship": ("Relationships", "Relations", "علاقات", "Связи", "روابط"),
    "kind_note": ("Notes", "Notes", "ملاحظات", "Заметки", "یادداشت‌ها"),
    "list_sep": ("; ", " ; ", "؛ ", "; ", "؛ "),
    "annex": ("Annex", "Annexe", "ملحق", "Приложение", "پیوست"),
    "summaries": ("Activity presented by the members", "Activité présentée par les membres",
                  "النشاط الذي عرضه الأعضاء", "Деятельность, представленная участниками",
                  "فعالیت ارائه‌شده توسط اعضا"),
}


class Words:
    """The labels and formats of one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            lang = "en"
        self.lang = lang
        self._i = LANGS.index(lang)
        self.rtl = lang in RTL
        self.dir = "rtl" if self.rtl else "ltr"

    def __call__(self, key: str, **kw: Any) -> str:
        row = _T.get(key)
        text = row[self._i] if row else key
        if any(isinstance(v, Markup) for v in kw.values()):
            # The label is escaped first; Markup.format escapes every value that is not already Markup.
            return Markup(escape(text)).format(**kw)  # noqa: S704
        return text.format(**kw) if kw else text

    def digits(self, text: str) -> str:
        return text.translate(_FA_DIGITS) if self.lang == "fa" else text

    def num(self, value: int | float) -> str:
        if self.lang == "fa":  # Persian separators (٬ ٫) and digits
            return self.digits(format_decimal(value, locale="fa", numbering_system="arabext"))
        return format_decimal(value, locale=self.lang)

    def signed(self, value: int) -> str:
        s = self.num(abs(value))
        return ("+" if value > 0 else "−" if value < 0 else "") + s

    def day(self, value: str | date | datetime) -> str:
        d = clock.parse_ts(value).date() if isinstance(value, str) else value
        return self.digits(format_date(d, "long", locale=self.lang))

    def short_day(self, value: str) -> str:
        return self.digits(format_date(clock.parse_ts(value).date(), "short", locale=self.lang))

    def moment(self, value: str) -> str:
        t = clock.parse_ts(value)
        return self.digits(f"{format_date(t.date(), 'long', locale=self.lang)}, {t:%H:%M} UTC")

    def period(self, start: str, end_exclusive: str) -> str:
        """A closed period as people write it: the last day shown is the day before the exclusive end when the
        end falls on midnight."""
        e = clock.parse_ts(end_exclusive)
        last = e.date() if (e.hour, e.minute, e.second, e.microsecond) != (0, 0, 0, 0) else \
            date.fromordinal(e.date().toordinal() - 1)
        return f"{self.day(start)} – {self.day(last)}"


def words(lang: str) -> Words:
    return Words(lang)
