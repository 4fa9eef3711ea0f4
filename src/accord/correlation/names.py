"""Names across scripts and spellings: normalise, transliterate, reduce to consonant skeletons, block, score.

Why skeletons: Arabic script usually omits short vowels, so "أبو بكر البغدادي" transliterates to "abw bkr
albghdady" while the Latin press writes "Abu Bakr al-Baghdadi" and Russian "Абу Бакр аль-Багдади". What survives
every spelling is the sequence of consonant classes: b-k-r, b-g-d-d. A skeleton drops vowels and the semi-vowels
w/y (Arabic writes long vowels with them), folds digraphs (kh, gh, sh, dzh...) and sound-alike letters (q/k/c,
z/s, p/b, v/f, j/g) into one class each. Skeletons are the blocking keys of the index; the score then compares
transliterated forms and skeletons with token-set similarity, so word order and joined/split words matter little.

Everything here is pure and fast (tens of microseconds per name); the service stores the keys and forms.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import numpy as np
from rapidfuzz import fuzz, process
from rigour.text.translit import ascii_text

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _memo(maxsize: int) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A dict cache, emptied when full. Not functools.lru_cache: each of its entries is a linked-list node that
    the garbage collector tracks, and a few hundred thousand of them turned every full collection into a 100 ms
    pause in the middle of a request (the p99 of correlating an entity). Here the entries are plain keys and
    mostly untracked values (strings, tuples of strings)."""
    def deco(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        cache: dict[Any, _R] = {}

        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            key = (args, tuple(kwargs.items())) if kwargs else args
            try:
                return cache[key]
            except KeyError:
                pass
            value = fn(*args, **kwargs)
            if len(cache) >= maxsize:
                cache.clear()
            cache[key] = value
            return value

        return wrapper
    return deco


__all__ = ["Match", "NameForm", "NameIndex", "analyse", "best_score", "best_scores", "blocking_keys", "dump_form",
           "load_form", "normalise", "skeleton", "supports"]

# Arabic and Persian letter variants that mean the same letter for matching purposes.
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ئ": "ي", "ێ": "ي", "ۍ": "ي", "ے": "ي", "ۓ": "ي",
    "ک": "ك", "ڪ": "ك",
    "ة": "ه", "ۀ": "ه", "ہ": "ه", "ۂ": "ه", "ە": "ا",
    "ؤ": "و", "ۇ": "و", "ۆ": "و", "ۈ": "و", "ۉ": "و",
    # Urdu, Pashto, Sindhi, Kurdish and Uyghur letters: folded into their Arabic kin.
    "ٹ": "ت", "ټ": "ت", "ٽ": "ت", "ٺ": "ت", "ڈ": "د", "ڊ": "د", "ڌ": "د", "ڍ": "د", "ڀ": "ب", "ڃ": "ن",
    "ډ": "د", "ڏ": "د", "ڑ": "ر", "ړ": "ر", "ڕ": "ر", "ڙ": "ر", "ڵ": "ل",
    "ں": "ن", "ڻ": "ن", "ڼ": "ن", "ڭ": "نگ", "ګ": "گ", "ڳ": "گ", "ښ": "ش", "ځ": "ز", "څ": "چ", "ڇ": "چ",
    "ږ": "ژ", "ٻ": "ب", "ڄ": "ج", "ڦ": "ف",
    # ۋ is the w of Uyghur and Kazakh spelling ("شياۋگەن", Xiaogan; "باۋتۇ", Baotou), as Persian و is w or v.
    "ۋ": "و",
    # Arabic Supplement letters: the retroflex n of Punjabi and Saraiki ("ننکاݨا", Nankana), the g of Moroccan
    # spelling ("أݣادير", Agadir).
    "ݨ": "ن", "ݣ": "گ",
    "ـ": None,  # tatweel (kashida) is only stretching
    "ء": None,  # a lone hamza is a glottal stop Latin spellings leave out
    "\u200c": None,  # zero-width non-joiner: Persian writes one word in parts ("جورج‌تاو", Georgetown)
    "\u200d": None, "\u200e": None, "\u200f": None,
})
# Arabic harakat (short vowel marks), shadda, sukun and Quranic marks: written inconsistently, never needed.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ARABIC_RANGE = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_INITIAL_HAMZA_YEH = re.compile(r"(?<![^\W\d_])ئ")
# ڭ is the "ng" of Uyghur, Kazakh and Ottoman spelling, which never starts a word; at a word's start it is the
# g of Moroccan spelling ("ڭلميم", Guelmim).
_INITIAL_NG = re.compile(r"(?<![^\W\d_])ڭ")
_DOUBLES = re.compile(r"(.)\1+")


def _run_letter(m: re.Match[str]) -> str:
    return m.group(1)


def _undouble(text: str) -> str:
    """A run of one letter as that letter once. Not ``_DOUBLES.sub(r"\\1", ...)``: a template replacement goes
    through Python code in `re` on every call, several microseconds, and this runs for every word analysed and
    every pair of names scored; most texts have no run at all."""
    return _DOUBLES.sub(_run_letter, text) if _DOUBLES.search(text) else text
_NON_CLASS = re.compile("[^abdfhjklmnrstvwy|]")
# Arabic script writes a doubled consonant once (with a shadda, mostly left out): the same consonant letter twice
# is two consonants with an unwritten vowel between ("ممبئی", Mumbai; "مسساگا", Mississauga). The shape keeps
# both (marked apart by "|" until doubles are collapsed); the skeletons still collapse them, as Latin's.
_TWICE = re.compile(r"([^اويه])\1")

# Arabic script to Latin, letter by letter (after folding), for the display form and spelling comparison.
# Not ICU: ICU renders ع as a word break and drops letters of Pashto and Sindhi.
_ARABIC_LATIN = str.maketrans({
    "ا": "a", "ب": "b", "پ": "p", "ت": "t", "ث": "th", "ج": "j", "چ": "ch", "ح": "h", "خ": "kh", "د": "d",
    "ذ": "dh", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "ع": "", "غ": "gh", "ف": "f", "ڤ": "v", "ق": "q", "ك": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
    "ه": "h", "ھ": "h", "و": "w", "ي": "y",
})
# The same letters straight into the classes of `shape` (below), never through the Latin digraph rules: "تهران"
# must not read t+h as "th", nor "طشقند" t+sh as "ts". Long vowels and diphthongs are written with ا و ي
# (a, w, y), short vowels not at all. Letter pairs that Latin spells as one sound come first.
_ARABIC_PAIRS = (("نگ", "n"), ("نغ", "n"), ("تس", "s"), ("طس", "s"), ("تش", "s"), ("دز", "j"), ("دژ", "j"),
                 ("دج", "j"), ("كھ", "h"), ("گھ", "j"), ("تھ", "t"), ("دھ", "d"), ("پھ", "f"), ("چھ", "s"),
                 ("جھ", "j"))
_ARABIC_CLASS = str.maketrans({
    "ا": "a", "ب": "b", "پ": "b", "ت": "t", "ث": "t", "ج": "j", "چ": "s", "ح": "h", "خ": "h", "د": "d",
    "ذ": "d", "ر": "r", "ز": "s", "ژ": "j", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "s",
    "ع": "a", "غ": "j", "ف": "f", "ڤ": "v", "ق": "k", "ك": "k", "گ": "j", "ل": "l", "م": "m", "ن": "n",
    "ه": "h", "ھ": "h", "و": "w", "ي": "y",
})

# Articles, honorifics and connectors that carry no identity, and generic place words (city, district,
# province), in Latin letters and as our table reads Arabic script ("mdynh" مدينة, "dl" ضلع, "sty" سٹی,
# "thsyl" تحصیل). They stay in the display form, not in the keys.
# A word list reads and extends more easily than a list of quoted strings.
_DROP = frozenset("""
al el ul il ad ar as ash at az an ed er es et ez bin ibn ben bn ibni bint bnt ould wuld mr mrs ms dr prof sir
sheikh shaykh shaikh sheik cheikh shaykhah haji hajji hadji mullah mulla mollah sayyid sayed seyed syed sayid
imam emir amir gen general col colonel maj major capt captain lt the le la les de du des der van von city shi
shahr shhr shhhyr shhhyry shehiri syty gorod shahar shahary shakhar
mdynh wlayh mhafzh bldyh mntqh nahyh mrkz shhrstan astan shahyry shahyr abn dl sty thsyl
""".split())  # noqa: SIM905
# The Arabic article assimilated to a "sun letter" ("an-Nasiriyah", "ash-Sharqi", "ad-Dawhah", "Dar es Salaam") is
# an article only before a word that starts with that letter; elsewhere it is a word of the name ("Yen-an-fu",
# "Tan An", "Ulsan" written "Ul-san" aside: ul/al/el are dropped wherever they stand).
_SUN_ARTICLES = {"ad": "d", "ar": "r", "as": "s", "ash": "sh", "at": "t", "az": "z", "an": "n", "ed": "d",
                 "er": "r", "es": "s", "et": "t", "ez": "z"}


def _dropped(pairs: tuple[tuple[str, str], ...], i: int) -> bool:
    w = pairs[i][0]
    sun = _SUN_ARTICLES.get(w)
    if sun is None:
        return w in _DROP
    return i + 1 < len(pairs) and pairs[i + 1][0].startswith(sun)


# Honorific words that are only dropped when they are not the whole name.
_ARTICLE_PREFIXES = ("al", "el", "ul")

# Digraphs first (longest first), then single letters, into consonant classes.
_DIGRAPHS = (("chzh", "j"), ("tsz", "j"), ("dzh", "j"), ("tch", "s"), ("sch", "s"), ("ngh", "n"), ("ng", "n"),
             ("kh", "h"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"), ("zh", "j"),
             ("ph", "f"), ("ts", "s"), ("dj", "j"), ("dz", "j"), ("ck", "k"), ("ou", "u"))
# v stays "v" here: Arabic writes it ف, Persian and Urdu و (a vowel letter too), so the strict skeleton reads it
# as f and the loose one drops it (see _skeletons).
_SOFT_C = re.compile("c(?=[eiy])")
_SINGLE = str.maketrans({"q": "k", "c": "k", "x": "ks", "z": "s", "p": "b", "g": "j"})
# Vowels as the Arabic script would write them: a as alif, e/i/y as ya, o/u/w as waw.
_SHAPE_VOWELS = str.maketrans({"e": "y", "i": "y", "o": "w", "u": "w", "'": None})
_MARKS = re.compile("[awy]")
# The loose skeleton also folds what scripts render inconsistently: h (Russian writes Latin h as g, Arabic has
# three h-like letters), voiced/unvoiced pairs, and the initial-vowel mark.
_LOOSE = str.maketrans({"h": None, "f": "b", "g": "k", "j": "k", "d": "t", "a": None, "v": None})
_STRICT = str.maketrans({"v": "f"})


def normalise(text: str) -> str:
    """NFKC, case-folded, Arabic/Persian letter variants folded, marks removed; still in its own script."""
    t = unicodedata.normalize("NFKC", text).casefold()
    if _ARABIC_RANGE.search(t):
        # A word-initial ئ is the vowel carrier of Uyghur and Kurdish spelling ("ئادىياما"), an alif in effect.
        t = _INITIAL_HAMZA_YEH.sub("ا", _ARABIC_MARKS.sub("", t))
        t = _INITIAL_NG.sub("گ", t).translate(_ARABIC_FOLD)
    return t


# Latin letters that do not decompose into a base letter and a mark.
_LATIN_EXTRA = str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ı": "i", "đ": "d", "ð": "d",
                              "þ": "th", "ŋ": "ng", "ħ": "h", "ʻ": "", "ʼ": "", "ʿ": "", "ʾ": "", "’": ""})
_ARABIC_WORD = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f]+")
# Russian writes the "ye"/"yo" sound at a word's start with one letter that ICU renders as a bare vowel
# ("Ереван" -> "erevan"); Latin writes Yerevan. й is a consonant y ("Йошкар-Ола", Yoshkar-Ola).
_CYRILLIC_START = re.compile(r"(?<![^\W\d_])([её])")


def _arabic_tokens(t: str, article: bool = True, other: bool = False) -> tuple[tuple[str, str], ...]:
    """(Latin word, shape) for each word of a normalised Arabic-script text; the article ال is split off as "al"
    (dropped later with the Latin articles) unless ``article`` is false; ``other`` takes the other reading of
    the letter pairs that have two (see _OTHER_READING)."""
    out: list[tuple[str, str]] = []
    for w in _ARABIC_WORD.findall(t):
        out.extend(_arabic_word(w, article, other))
    return tuple(out)


# Letter pairs read one way by default and another way in a query's second reading: نگ/نغ inside a word is the
# Chinese "-ng" but also n + g with an unwritten vowel between ("سرینگر", Srinagar); نج is n + j, or the "ng"
# of Arabic spellings that write g as ج ("هالونج", Ha Long); a final دز is the "dz" of Slavic names but also
# Latin "-ds"/"-dz" ("لیدز", Leeds).
_OTHER_READING = re.compile("ن[گغ](?=.)|نج|دز$")
_OTHER_PAIRS = {"نگ": "نج", "نغ": "نج", "نج": "نگ", "دز": "دس"}


@_memo(200_000)
def _arabic_word(w: str, article: bool, other: bool = False) -> tuple[tuple[str, str], ...]:
    """One word, cached (names share their words). ع is no consonant Latin spellings write: a vowel at a word's
    start ("عمر", Omar); inside a word the vowel it carries, read as a in the shape ("الضعين", El Daein; "تعز",
    Taiz; the Latin form leaves it out); at a word's end, after a vowel, nothing ("ينبع", Yanbu)."""
    out: list[tuple[str, str]] = []
    if article and w.startswith("ال") and len(w) >= 4:
        out.append(("al", "al"))
        w = w[2:]
    lat = w.translate(_ARABIC_LATIN)
    sh = _OTHER_READING.sub(lambda m: _OTHER_PAIRS[m.group()], w) if other else w
    if len(w) > 2 and w[-1] == "ه" and w[-2] not in "اوي":
        # A final ه after a consonant is a vowel: Persian and Urdu "-e"/"-a" ("ریزه", Rize), the Arabic ta
        # marbuta ("سعيدة", Saïda). After a long vowel it is a heard h ("شاه", Shah).
        sh = w[:-1] + "ا"
    sh = _TWICE.sub(r"\1|\1", sh)
    for a, b in _ARABIC_PAIRS:
        if a in sh:
            sh = sh.replace(a, b)
    if len(sh) > 1 and sh[-1] == "ع":
        sh = sh[:-1]
    sh = sh.translate(_ARABIC_CLASS)
    if w[0] == "ع":
        lat = "a" + lat
    lat = _NON_ALNUM.sub("", lat)
    if lat:
        out.append((lat, _undouble(_NON_CLASS.sub("", sh)).replace("|", "")))
    return tuple(out)


@_memo(50_000)
def _latin_raw(text: str) -> str:
    t = normalise(text)
    if _ARABIC_RANGE.search(t):
        t = _ARABIC_WORD.sub(lambda m: " " + " ".join(w for w, _ in _arabic_tokens(m.group())) + " ", t)
    if not t.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", t.translate(_LATIN_EXTRA))
                         if not unicodedata.combining(ch))
        if folded.isascii():
            t = folded
        else:
            t = _CYRILLIC_START.sub(lambda m: "y" + ("e" if m.group(1) == "е" else "o"), t).replace("й", "y")
            t = " ".join(_ascii_word(w) for w in t.split())
    return " ".join(_NON_ALNUM.sub(" ", t).split())


@_memo(100_000)
def _ascii_word(word: str) -> str:
    """ICU's transliteration of one word, memoised: names repeat their words far more than whole names repeat
    (an alias list of "Псевдоним 1" ... "Псевдоним 10000" costs one transliteration, not ten thousand)."""
    return word if word.isascii() else ascii_text(word)


def latin(text: str) -> str:
    """Lower-case ASCII transliteration, words separated by single spaces: Arabic script through our own
    letter table, other scripts through ICU (rigour/normality), Latin with diacritics through a cheap fold."""
    return _latin_raw(text).lower()


def _strip_article(token: str) -> str:
    for p in _ARTICLE_PREFIXES:
        # "al'-bagdadi" split by punctuation already; "albaghdadi" written as one word. Keep "ali", "ela".
        if token.startswith(p) and len(token) >= len(p) + 4:
            return token[len(p):]
    return token


@_memo(200_000)
def shape(token: str) -> str:
    """A token as consonant classes with its vowels as Arabic script would write them (a, w, y): "baghdadi" ->
    "bajdady". Doubles collapsed (Arabic writes a doubled letter once)."""
    # A word's initial vowel is carried by an alif ("Irkutsk" -> "إيركوتسك", a-y-r-k-...).
    t = "a" + token if token[:1] in ("e", "i", "o", "u") else token
    for a, b in _DIGRAPHS:
        t = t.replace(a, b)
    # c before e, i, y is s in the Romance languages and ts in the Slavic ones ("Valencia", "Zenica").
    t = _SOFT_C.sub("s", t).translate(_SINGLE).translate(_SHAPE_VOWELS)
    return _undouble(t)


@_memo(200_000)
def _skeletons(sh: str) -> tuple[str, str]:
    """(strict, loose) consonant skeletons of a token's shape. The strict one reads v as f; the loose one drops
    v, h and folds voiced/unvoiced pairs. A word that starts with a vowel keeps an "a" mark: every script
    writes that vowel (Arabic with an alif), and it tells "Essen" (asn) from "Sana" (sn)."""
    initial = sh[:1] == "a"
    sk = _undouble(_MARKS.sub("", sh))
    # A final h is usually a written ta marbuta or a Latin "-ah"/"-hi" ending, not a consonant heard.
    if len(sk) > 1 and sk.endswith("h"):
        sk = sk[:-1]
    if initial:
        sk = "a" + sk
    return sk.translate(_STRICT), _undouble(sk.translate(_LOOSE))


def skeleton(token: str) -> str:
    """Consonant-class skeleton of one Latin token: "baghdadi" -> "bjdd", "abu" -> "ab"."""
    return _skeletons(shape(token))[0]


def loose(skel: str) -> str:
    """A coarser class key over a skeleton (h dropped, voiced/unvoiced and g/j/k folded)."""
    return _undouble(skel.translate(_LOOSE))


@dataclass(frozen=True, eq=False, slots=True)
class NameForm:
    """One analysed name: its Latin form, identity tokens and their skeletons (joined, loose and shape
    precomputed, since scoring compares them many times). Forms compare and hash by identity: they come from
    cached constructors, and hashing eleven strings on every cache look-up was a measurable cost."""

    original: str
    latin: str
    tokens: tuple[str, ...]
    skeletons: tuple[str, ...]
    script: str
    joined: str = ""
    loose: str = ""
    token_text: str = ""
    skeleton_text: str = ""
    shape: str = ""
    short: str = ""  # the shape without the short vowels Arabic script leaves unwritten (see _SHORT)
    other: NameForm | None = None  # the Spanish or pinyin reading of a Latin name, if it differs (_build)


def script_of(text: str) -> str:
    """The dominant script of a name, for reasons and per-script evaluation."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        if ch.isascii():
            s = "Latin"
        else:
            n = unicodedata.name(ch, "")
            s = n.split(" ", 1)[0].title() if n else "Other"
        counts[s] = counts.get(s, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "Other"


@_memo(50_000)
def analyse(name: str) -> NameForm:
    return from_latin(name, latin(name), script_of(name))


@_memo(50_000)
def from_latin(name: str, lat: str, script: str) -> NameForm:
    """Build the form from an already transliterated name (the store keeps the Latin form and script, so
    scoring candidates never runs ICU again; Arabic script is re-read through the cheap letter tables)."""
    if script == "Arabic":
        return _build(name, lat, script, _arabic_name(name))
    return _build(name, lat, script, tuple((t, shape(t)) for t in lat.split()))


@_memo(50_000)
def _arabic_name(name: str) -> tuple[tuple[str, str], ...]:
    return _arabic_tokens(normalise(name))


@_memo(200_000)
def _token(word: str, sh: str, arabic: bool) -> tuple[str, str, str]:
    """(strict skeleton, loose skeleton, short shape) of one word, cached: names share their words."""
    strict, lo = _skeletons(sh)
    if arabic:
        return strict, lo, sh
    short = _SHORT.sub("", word)
    if len(short) > 2 and short[-1] == "e" and short[-2] not in "aeiouy":
        short = short[:-1] + "a"  # a final e is the "-e"/"-a" Persian and Arabic write with a final ه or ا
    return strict, lo, shape(short)


# Spanish letters that Arabic script writes by their sound: ll before a vowel is y ("Trujillo", "تروخيو"), j is
# kh. A Latin name with them also gets that reading, for its keys and for comparison with Arabic script.
_SPANISH = re.compile("ll(?=[aeiou])|(?<![dz])j")
_SPANISH_SOUND = {"ll": "y", "j": "kh"}


# Chinese pinyin letters that Arabic script writes by their sound: q is ch ("Zhaoqing", "ژاؤچینگ"), x is sh
# ("Jiaxing", "جیاشنگ"), c is ts. A Latin name made only of pinyin syllables (j, q, x only before i or u), with
# one of those letters, gets that reading instead of the Spanish one.
_PINYIN_WORD = re.compile("(?:[jqx](?:iang|iong|ian|iao|ing|ia|ie|iu|in|i|uan|un|ue|u)"
                          "|(?:zh|ch|sh|[bpmfdtnlgkhrzcsyw])?(?:iang|iong|uang|ueng|ang|eng|ong|ian|iao|ing|uai|uan"
                          "|ai|ei|ao|ou|an|en|er|ia|ie|iu|in|ua|uo|ui|un|ue|a|o|e|i|u|v))+")
_PINYIN = re.compile("[qx]|c(?!h)")
_PINYIN_SOUND = {"q": "ch", "x": "sh", "c": "ts"}


def _build(name: str, lat: str, script: str, pairs: tuple[tuple[str, str], ...],
           reread: bool = True) -> NameForm:
    form = _build_one(name, lat, script, pairs)
    if not reread or script != "Latin":
        return form
    other = None
    if _PINYIN.search(lat) and all(_PINYIN_WORD.fullmatch(w) for w, _ in pairs):
        # The words the name kept, read anew, and not dropped again ("Xi" read "shi" is no "city").
        words = tuple(_PINYIN.sub(lambda m: _PINYIN_SOUND[m.group()], w) for w in form.tokens)
        other = _build_one(name, lat, script, tuple((w, shape(w)) for w in words), drop=False)
    elif _SPANISH.search(lat):
        words = tuple(_SPANISH.sub(lambda m: _SPANISH_SOUND[m.group()], w) for w, _ in pairs)
        other = _build_one(name, lat, script, tuple((w, shape(w)) for w in words))
    if other is not None and (other.joined != form.joined or other.shape != form.shape):
        object.__setattr__(form, "other", other)
    return form


def _build_one(name: str, lat: str, script: str, pairs: tuple[tuple[str, str], ...], drop: bool = True) -> NameForm:
    kept = [p for i, p in enumerate(pairs) if not (drop and _dropped(pairs, i))]
    if script not in ("Latin", "Arabic"):
        kept = [(w, shape(w)) for w in (_strip_article(t) for t, _ in kept)]
    if not kept:  # a name made only of dropped words ("Al Amir") keeps them
        kept = list(pairs)
    arabic = script == "Arabic"
    toks = tuple(t for t, _ in kept)
    info = [_token(w, sh, arabic) for w, sh in kept]
    skels = tuple(i[0] for i in info if i[0])
    joined = _undouble("".join(skels))
    lo = _undouble("".join(i[1] for i in info))
    return NameForm(name, lat, toks, skels, script, joined, lo, " ".join(toks), " ".join(skels),
                    "".join(sh for _, sh in kept), "".join(i[2] for i in info))


@_memo(50_000)
def form_keys(form: NameForm) -> frozenset[str]:
    return frozenset(blocking_keys(form))


def query_forms(name: str) -> list[NameForm]:
    """A query name, and its part before a comma when it carries a qualifier ("Preston, Lancashire",
    "كوراشيكي، اوكاياما"): the qualifier is context, not the name."""
    forms = [analyse(name)]
    for sep in ("،", ","):
        head = name.split(sep, 1)[0]
        if head != name and head.strip():
            forms.append(analyse(head))
            break
    # An initial ال is the article in Arabic names, but also the start of foreign ones ("الورين", Ilorin).
    for f in list(forms):
        if f.script != "Arabic":
            continue
        t = normalise(f.original)
        words = _ARABIC_WORD.findall(t)
        if any(w.startswith("ال") and len(w) >= 4 for w in words):
            forms.append(_build(f.original, f.latin, f.script, _arabic_tokens(t, article=False)))
        if any(_OTHER_READING.search(w) for w in words):
            forms.append(_build(f.original, f.latin, f.script, _arabic_tokens(t, other=True)))
    return forms


def blocking_keys(form: NameForm) -> set[str]:
    """Index keys for a name: each token skeleton of two or more classes, the whole skeleton (catches words
    joined or split differently), and its first four classes (catches a differing ending)."""
    keys = _keys(form)
    if form.other is not None:
        keys |= _keys(form.other)
    return keys


def _keys(form: NameForm) -> set[str]:
    keys = {f"t:{s}" for s in form.skeletons if len(s) >= 2}
    joined = form.joined
    if joined:
        keys.add(f"j:{joined}")
        if len(joined) > 4:
            keys.add(f"p:{joined[:4]}")
    if form.loose:
        keys.add(f"l:{form.loose}")
    if 0 < len(joined) <= 3:
        # A short skeleton ("sn": Xian, Sana, Essen...) is shared by hundreds of names; where its long vowels
        # are written (w/y), they tell them apart.
        keys.add(f"v:{_vowel_key(form.shape)}")
        if form.short != form.shape:
            # Arabic script leaves a short e unwritten ("Zenica", "زنيتسا"): the key of the shape without it too.
            keys.add(f"v:{_vowel_key(form.short)}")
    return keys


def _vowel_key(sh: str) -> str:
    initial = sh[:1] == "a"
    v = _undouble(sh.replace("a", "").replace("v", "w"))
    if len(v) > 1 and v.endswith("h"):
        v = v[:-1]
    return ("a" if initial else "") + v


# An a or e between two consonants is most often a short vowel, which Arabic script does not write
# ("Baghdad" -> "بغداد", b-gh-d-a-d); the comparison takes the better of the full and the short shape.
_SHORT = re.compile("(?<=[b-df-hj-np-tv-z])e(?=[b-df-hj-np-tv-z])")


def _abjad(arabic: NameForm, other: NameForm) -> float:
    """Compare a name written in Arabic script with another as Arabic would write it (consonant classes, long
    vowels as a/w/y, v as Persian و or as Arabic ف): it separates "Fushun" from "Foshan" for "fwshwn", which
    skeletons cannot."""
    a = arabic.shape
    best = 0.0
    shapes = [other.shape, other.short]
    if a[:1] == "a" and a[1:2] != "y" and other.shape[:2] == "ay" and other.shape[2:3] not in ("", "a", "w", "y"):
        # an initial short i or e written with a bare alif ("Istanbul", "اسطنبول"; "Essen", "إسن")
        shapes += ["a" + other.shape[2:], "a" + other.short[2:]]
    for o in shapes:
        if "v" in o:
            best = max(best, fuzz.ratio(a, _undouble(o.replace("v", "w"))),
                       fuzz.ratio(a, o.replace("v", "f")))
        else:
            best = max(best, fuzz.ratio(a, o))
    return best / 100.0


# Weights of skeleton, spelling and "as Arabic writes it" similarity when one name is in Arabic script. Chosen
# on the development half of the GeoNames evaluation (see evaluation.py), reported on the other half.
W_SK, W_LAT, W_ABJ = 0.45, 0.1, 0.45
LOOSE_W = 0.95  # the loose skeleton is weaker evidence than the strict one, a little


def _pair_score(q: NameForm, c: NameForm) -> tuple[float, list[str]]:
    """Score two analysed names in [0, 1] with the reasons that carried it; a Latin name with a second reading
    is compared with Arabic script under both readings."""
    if q.script == "Arabic" and c.other is not None:
        return max(_one_pair_score(q, c), _one_pair_score(q, c.other), key=lambda r: r[0])
    if c.script == "Arabic" and q.other is not None:
        return max(_one_pair_score(q, c), _one_pair_score(q.other, c), key=lambda r: r[0])
    return _one_pair_score(q, c)


def _one_pair_score(q: NameForm, c: NameForm) -> tuple[float, list[str]]:
    if not q.tokens or not c.tokens:
        return 0.0, []
    reasons: list[str] = []
    # token_set alone scores a subset ("Pimpri" in "Pimpri-Chinchwad") as perfect; a subset is weaker evidence.
    lat = max(fuzz.token_sort_ratio(q.token_text, c.token_text), 0.9 * fuzz.token_set_ratio(
        q.token_text, c.token_text)) / 100.0
    qs, cs = q.skeleton_text, c.skeleton_text
    sk_tokens = max(fuzz.token_sort_ratio(qs, cs), 0.9 * fuzz.token_set_ratio(qs, cs)) / 100.0
    sk_joined = fuzz.ratio(q.joined, c.joined) / 100.0
    sk_loose = LOOSE_W * fuzz.ratio(q.loose, c.loose) / 100.0
    sk = max(sk_tokens, sk_joined, sk_loose)
    if q.joined and q.joined == c.joined:
        reasons.append("same consonant skeleton")
    if q.script != c.script:
        reasons.append(f"transliterated {q.script} to {c.script}" if q.script != "Latin"
                       else f"transliterated {c.script} to Latin")
    # Latin-form similarity is trusted more when both were written in the same script; across scripts the
    # vowels differ by construction and the skeleton speaks.
    if (q.script == "Arabic") != (c.script == "Arabic"):
        abj = _abjad(q, c) if q.script == "Arabic" else _abjad(c, q)
        score = max(W_SK * sk + W_LAT * lat + W_ABJ * abj, lat)
    elif q.script == c.script:
        score = max(lat, 0.85 * sk + 0.15 * lat)
    else:
        score = max(0.75 * sk + 0.25 * lat, lat)
    if lat >= 0.9:
        reasons.append(f"spelling {lat:.2f}")
    if sk >= 0.8 and "same consonant skeleton" not in reasons:
        reasons.append(f"consonant skeleton {sk:.2f}")
    if sk_tokens > sk_joined and sk_tokens >= 0.8 and len(q.tokens) > 1:
        reasons.append("same words in another order or subset")
    return round(min(1.0, score), 3), reasons


def best_score(queries: Iterable[NameForm], candidates: Iterable[NameForm],
               keyed: bool = True) -> tuple[float, list[str], str]:
    """Best score over the (query name, candidate name or alias) pairs; returns score, reasons, matched name.
    With ``keyed``, only the pairs sharing the most blocking keys are scored (a pair sharing fewer is rarely the
    best, and an entity with names in three scripts against another would otherwise cost nine comparisons)."""
    return best_scores(list(queries), [list(candidates)], keyed=keyed)[0]


def _keyed_pairs(queries: Sequence[NameForm], cands: Sequence[NameForm], keyed: bool,
                 stored: bool = False) -> list[tuple[NameForm, NameForm]]:
    if not keyed:
        return [(q, c) for q in queries for c in cands]
    # The queries' keys are memoised (the same forms meet every candidate); so are those of candidates held in
    # memory (`NameIndex`), but not those of candidates read from the store (``stored``): they are new objects on
    # every query, and memoising them only filled the memo (3 us a name instead of 1).
    qkeys = [form_keys(q) for q in queries]
    ckeys = [blocking_keys(c) if stored else form_keys(c) for c in cands]
    shared = [(len(qk & ck), q, c) for q, qk in zip(queries, qkeys, strict=True) for c, ck in zip(cands, ckeys,
                                                                                                 strict=True)]
    top = max((n for n, _, _ in shared), default=0)
    return [(q, c) for n, q, c in shared if n and n >= top - 1]


def _abjad_targets(other: NameForm) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The strings `_abjad` compares an Arabic-script shape with, for the non-Arabic name ``other``: those of
    its shape and short shape, and those of the bare-alif variants (used only when the Arabic shape starts with
    a bare alif, see `_abjad`)."""
    def variants(o: str) -> tuple[str, ...]:
        return (_undouble(o.replace("v", "w")), o.replace("v", "f")) if "v" in o else (o,)
    base = (*variants(other.shape), *variants(other.short))
    alif: tuple[str, ...] = ()
    if other.shape[:2] == "ay" and other.shape[2:3] not in ("", "a", "w", "y"):
        alif = (*variants("a" + other.shape[2:]), *variants("a" + other.short[2:]))
    return base, alif


def _ratios(scorer: Any, a: list[str], b: list[str]) -> Any:
    """``scorer(a[i], b[i])`` for every i, in one call into rapidfuzz (the same C functions `_one_pair_score`
    calls one by one, so the same values)."""
    return process.cpdist(a, b, scorer=scorer, dtype=np.float64, workers=1)


def best_scores(queries: Sequence[NameForm], groups: Sequence[Sequence[NameForm]], keyed: bool = True,
                threshold: float = 0.0, stored: bool = False) -> list[tuple[float, list[str], str]]:
    """`best_score` for each group of candidate names (one group per candidate item), with every pair scored in a
    few bulk calls: scoring some 140 pairs one Python call at a time was a third of correlating a new entity.
    The arithmetic is `_one_pair_score`'s, term for term in the same order, so the scores are the same floats;
    reasons are built (by `_pair_score`, for the winning pair only) when the score reaches ``threshold``. With a
    threshold, a group whose score cannot reach it may come back with a lower score (still under it): the
    comparisons that cannot reach it skip the costliest term. ``stored``: the candidates were just read from the
    store (see `_keyed_pairs`)."""
    pairs: list[tuple[int, NameForm, NameForm]] = []
    for g, cands in enumerate(groups):
        pairs.extend((g, q, c) for q, c in _keyed_pairs(queries, cands, keyed, stored))
    # Each pair is one comparison, or two when a Latin name with a second reading meets Arabic script.
    ev_pair: list[int] = []
    xs: list[NameForm] = []
    ys: list[NameForm] = []
    for p, (_, q, c) in enumerate(pairs):
        if q.script == "Arabic" and c.other is not None:
            sub: tuple[tuple[NameForm, NameForm], ...] = ((q, c), (q, c.other))
        elif c.script == "Arabic" and q.other is not None:
            sub = ((q, c), (q.other, c))
        else:
            sub = ((q, c),)
        for x, y in sub:
            ev_pair.append(p)
            xs.append(x)
            ys.append(y)
    scores: list[float] = []
    if xs:
        tx, ty = [x.token_text for x in xs], [y.token_text for y in ys]
        sx, sy = [x.skeleton_text for x in xs], [y.skeleton_text for y in ys]
        lat = np.maximum(_ratios(fuzz.token_sort_ratio, tx, ty), 0.9 * _ratios(fuzz.token_set_ratio, tx, ty)) / 100.0
        sk_tokens = np.maximum(_ratios(fuzz.token_sort_ratio, sx, sy),
                               0.9 * _ratios(fuzz.token_set_ratio, sx, sy)) / 100.0
        sk_joined = _ratios(fuzz.ratio, [x.joined for x in xs], [y.joined for y in ys]) / 100.0
        sk_loose = LOOSE_W * _ratios(fuzz.ratio, [x.loose for x in xs], [y.loose for y in ys]) / 100.0
        sk = np.maximum(np.maximum(sk_tokens, sk_joined), sk_loose)
        # "As Arabic writes it", for the comparisons with exactly one name in Arabic script (see `_abjad`).
        cross = np.array([(x.script == "Arabic") != (y.script == "Arabic") for x, y in zip(xs, ys, strict=True)])
        same = np.array([x.script == y.script for x, y in zip(xs, ys, strict=True)])
        compare = cross
        if threshold > 0 and cross.any():
            # Only the comparisons that can reach the threshold (their score with that term at its most, 1; a
            # thousandth below for the rounding): the others score under it whatever the term.
            compare = cross & (np.maximum(W_SK * sk + W_LAT * lat + W_ABJ, lat) >= threshold - 0.001)
        # Each such comparison has a run of target strings; its score is the best over the run.
        abj_ev: list[int] = []
        starts: list[int] = []
        abj_a: list[str] = []
        abj_t: list[str] = []
        targets_of: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if not compare[i]:
                continue
            ar, other = (x, y) if x.script == "Arabic" else (y, x)
            a = ar.shape
            tg = targets_of.get(id(other))
            if tg is None:
                tg = targets_of[id(other)] = _abjad_targets(other)
            base, alif = tg
            targets = base + alif if alif and a[:1] == "a" and a[1:2] != "y" else base
            abj_ev.append(i)
            starts.append(len(abj_t))
            abj_a.extend([a] * len(targets))
            abj_t.extend(targets)
        best = np.zeros(len(xs))
        if abj_ev:
            best[abj_ev] = np.maximum(0.0, np.maximum.reduceat(_ratios(fuzz.ratio, abj_a, abj_t), starts))
        abj = best / 100.0
        score = np.where(cross, np.maximum(W_SK * sk + W_LAT * lat + W_ABJ * abj, lat),
                         np.where(same, np.maximum(lat, 0.85 * sk + 0.15 * lat),
                                  np.maximum(0.75 * sk + 0.25 * lat, lat)))
        empty = [not x.tokens or not y.tokens for x, y in zip(xs, ys, strict=True)]
        scores = [0.0 if e else round(min(1.0, v), 3) for v, e in zip(score.tolist(), empty, strict=True)]
    pair_score = [0.0] * len(pairs)
    for p, v in zip(ev_pair, scores, strict=True):
        if v > pair_score[p]:
            pair_score[p] = v
    # The first pair with the highest score wins, as in a loop over the pairs in order.
    won: list[int | None] = [None] * len(groups)
    for p, (g, _, _) in enumerate(pairs):
        w = won[g]
        if pair_score[p] > (0.0 if w is None else pair_score[w]):
            won[g] = p
    out: list[tuple[float, list[str], str]] = []
    for w in won:
        if w is None:
            out.append((0.0, [], ""))
            continue
        _, q, c = pairs[w]
        reasons = _pair_score(q, c)[1] if pair_score[w] >= threshold else []
        out.append((pair_score[w], reasons, c.original))
    return out


SUPPORT_GAP = 0.02


def supports(queries: list[NameForm], scored: list[tuple[float, list[NameForm]]],
             limit: int | None = None) -> list[int]:
    """For candidates (score, names) that tie on score with another, how many of their distinct names score
    within SUPPORT_GAP of that score: on equal scores, an entity whose other spellings agree with the query too
    is the better supported (Accra's names "Akra", "Akkra"... against a village known only as "Akra"). Zero for
    candidates that tie with none, or that rank below the first ``limit`` (nothing to break, nothing computed)."""
    count: dict[float, int] = {}
    for sc, _ in scored:
        count[sc] = count.get(sc, 0) + 1
    floor = sorted((sc for sc, _ in scored), reverse=True)[limit - 1] if limit and len(scored) >= limit else 0.0
    out = []
    for sc, names in scored:
        n = 0
        if count[sc] > 1 and sc >= floor:
            seen: set[str] = set()
            for c in names:
                if c.latin not in seen and max(_pair_score(q, c)[0] for q in queries) >= sc - SUPPORT_GAP:
                    seen.add(c.latin)
            n = len(seen)
        out.append(n)
    return out


def least_hits(forms: Iterable[NameForm]) -> int:
    """The fewest keys a candidate must share with a query: a third of the keys of the query's smallest form
    (a name sharing one word of three with the query, and nothing else, is a chance neighbour)."""
    return max(1, min((len(form_keys(f)) for f in forms), default=0) // 3)


def shortlist(counts: dict[int, int], size: int, least: int = 1) -> list[int]:
    """Candidates by shared keys, most first; those sharing under half as many keys as the best, or under
    ``least``, are dropped (a true match across scripts shares several keys; a chance one shares one)."""
    ranked = sorted(counts, key=lambda i: (-counts[i], i))[:size]
    if not ranked:
        return []
    floor = max(least, counts[ranked[0]] // 2)
    return [i for i in ranked if counts[i] >= floor]


@dataclass(order=True)
class Match:
    score: float
    key: int = field(compare=False)
    reasons: list[str] = field(compare=False, default_factory=list)
    matched: str = field(compare=False, default="")


class NameIndex:
    """In-memory version of the stored index (same keys, same retrieval, same score). Used by the quality
    evaluation and by tests; the service runs the same steps in SQL."""

    def __init__(self, noisy: int = 1000, shortlist: int = 50) -> None:
        self.noisy = noisy
        self.shortlist = shortlist
        self.postings: dict[str, set[int]] = {}
        self.names: dict[int, list[NameForm]] = {}

    def add(self, key: int, names: Iterable[str]) -> None:
        forms = [analyse(n) for n in names if n.strip()]
        self.names.setdefault(key, []).extend(forms)
        for f in forms:
            for k in blocking_keys(f):
                self.postings.setdefault(k, set()).add(key)

    def search(self, name: str, limit: int = 10) -> list[Match]:
        qs = query_forms(name)
        keys = set().union(*(blocking_keys(q) for q in qs))
        counts: dict[int, int] = {}
        usable = [k for k in keys if len(self.postings.get(k, ())) <= self.noisy] or list(keys)
        for k in usable:
            for item in self.postings.get(k, ()):
                counts[item] = counts.get(item, 0) + 1
        out = []
        seqs = shortlist(counts, self.shortlist, least_hits(qs))
        for item, (s, r, m) in zip(seqs, best_scores(qs, [self.names[i] for i in seqs]), strict=True):
            if s > 0:
                out.append(Match(s, item, r, m))
        # On equal scores, more of an entity's names agreeing is stronger evidence (see `supports`), and then its
        # own name rather than one of its aliases.
        primary = {m.key: m.matched == self.names[m.key][0].original for m in out}
        scored = [(m.score, self.names[m.key]) for m in out]
        support = {m.key: n for m, n in zip(out, supports(qs, scored, limit), strict=True)}
        out.sort(key=lambda m: (-m.score, -support[m.key], not primary[m.key], m.key))
        return out[:limit]


# ----- stored analysis ----------------------------------------------------------------------------------------
# The store keeps each name's analysis next to it (corr_names.form), so that scoring candidates rebuilds nothing:
# re-analysing some ninety candidate names per query was most of the cost of correlating a new entity. The text
# starts with the analysis version; a form stored by another version is ignored and the name re-analysed from its
# Latin form, so changing the analysis never serves stale forms (a rebuild refreshes them).
FORM_VERSION = "2"
_SEP = "\x1f"


def _fields(form: NameForm) -> tuple[str, ...]:
    return (" ".join(form.tokens), " ".join(form.skeletons), form.joined, form.loose, form.shape, form.short)


def dump_form(form: NameForm) -> str:
    """The stored text of an analysed name (everything `NameForm` holds besides the name, Latin form and script,
    which have their own columns), with its second reading when it has one."""
    extra = _fields(form.other) if form.other is not None else ()
    return _SEP.join((FORM_VERSION, *_fields(form), *extra))


def _form_of(name: str, lat: str, script: str, f: list[str]) -> NameForm:
    toks, skels, joined, lo, sh, short = f
    return NameForm(name, lat, tuple(toks.split(" ")) if toks else (), tuple(skels.split(" ")) if skels else (),
                    script, joined, lo, toks, skels, sh, short)


def load_form(name: str, lat: str, script: str, stored: str | None) -> NameForm:
    """The analysed name from its stored text; from the Latin form when none was stored by this version. Not
    memoised: a memo of forms read from a large store holds tens of thousands of objects the cyclic collector
    walks, and its full collections became 100 ms pauses in name matching at 1M items."""
    parts = stored.split(_SEP) if stored else []
    if len(parts) not in (7, 13) or parts[0] != FORM_VERSION:
        return from_latin(name, lat, script)
    form = _form_of(name, lat, script, parts[1:7])
    if len(parts) == 13:
        object.__setattr__(form, "other", _form_of(name, lat, script, parts[7:]))
    return form
