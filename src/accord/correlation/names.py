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

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rigour.text.translit import ascii_text

__all__ = ["Match", "NameForm", "NameIndex", "analyse", "best_score", "blocking_keys", "normalise", "skeleton"]

# Arabic and Persian letter variants that mean the same letter for matching purposes.
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ئ": "ي",
    "ک": "ك", "ڪ": "ك",
    "ة": "ه", "ۀ": "ه", "ھ": "ه",
    "ؤ": "و", "ۇ": "و", "ۆ": "و", "ۈ": "و", "ۋ": "و",
    # Urdu, Pashto, Kurdish and Uyghur letters the transliterator drops; fold them into their Arabic kin.
    "ٹ": "ت", "ڈ": "د", "ډ": "د", "ڑ": "ر", "ڕ": "ر", "ہ": "ه", "ڵ": "ل", "ں": "ن", "ے": "ي", "ێ": "ي",
    "ڭ": "نگ", "ګ": "گ", "ښ": "ش", "ځ": "ج", "څ": "چ", "ۍ": "ي", "ە": "ا",
    "ـ": None,  # tatweel (kashida) is only stretching
    "ء": None,
})
# Arabic harakat (short vowel marks), shadda, sukun and Quranic marks: written inconsistently, never needed.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ARABIC_RANGE = re.compile("[\u0600-\u06ff]")
_DOUBLES = re.compile(r"(.)\1+")

# Articles, honorifics and connectors that carry no identity. They stay in the display form, not in the keys.
# A word list reads and extends more easily than a list of quoted strings.
_DROP = frozenset("""
al el ul il ad ar as ash at az an ed er es et ez bin ibn ben bn ibni bint bnt ould wuld mr mrs ms dr prof sir
sheikh shaykh shaikh sheik cheikh shaykhah haji hajji hadji mullah mulla mollah sayyid sayed seyed syed sayid
imam emir amir gen general col colonel maj major capt captain lt the le la les de du des der van von city shi
shahr shhr shhhyr shhhyry shehiri syty gorod
""".split())  # noqa: SIM905
# Honorific words that are only dropped when they are not the whole name.
_ARTICLE_PREFIXES = ("al", "el", "ul")

# Digraphs first (longest first), then single letters, into consonant classes.
_DIGRAPHS = (("chzh", "j"), ("tsz", "j"), ("dzh", "j"), ("tch", "s"), ("sch", "s"), ("ngh", "n"), ("ng", "n"),
             ("kh", "h"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"), ("zh", "j"),
             ("ph", "f"), ("ts", "s"), ("dj", "j"), ("dz", "j"), ("ck", "k"), ("ou", "u"))
_SINGLE = str.maketrans({"q": "k", "c": "k", "x": "ks", "z": "s", "p": "b", "v": "f", "g": "j"})
_VOWELS = re.compile("[aeiouyw']")
# The loose skeleton also folds what scripts render inconsistently: h (Russian writes Latin h as g, Arabic has
# three h-like letters), v/w (one Arabic letter, one Cyrillic letter), voiced/unvoiced pairs.
_LOOSE = str.maketrans({"h": None, "f": "b", "g": "k", "j": "k", "d": "t"})


def normalise(text: str) -> str:
    """NFKC, case-folded, Arabic/Persian letter variants folded, marks removed; still in its own script."""
    t = unicodedata.normalize("NFKC", text).casefold()
    if _ARABIC_RANGE.search(t):
        t = _ARABIC_MARKS.sub("", t).translate(_ARABIC_FOLD)
    return t


# Latin letters that do not decompose into a base letter and a mark.
_LATIN_EXTRA = str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ı": "i", "đ": "d", "ð": "d",
                              "þ": "th", "ŋ": "ng", "ħ": "h", "ʻ": "", "ʼ": "", "ʿ": "", "ʾ": "", "’": ""})


@lru_cache(maxsize=200_000)
def latin(text: str) -> str:
    """Lower-case ASCII transliteration (ICU through rigour/normality), words separated by single spaces."""
    t = normalise(text)
    if not t.isascii():
        # Latin with diacritics is common and cheap to fold without ICU; other scripts go through ICU.
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", t.translate(_LATIN_EXTRA))
                         if not unicodedata.combining(ch))
        t = folded if folded.isascii() else ascii_text(t)
    return " ".join(_NON_ALNUM.sub(" ", t.lower()).split())


def _strip_article(token: str) -> str:
    for p in _ARTICLE_PREFIXES:
        # "albghdady", "el-" already split off by punctuation; keep short words like "ali", "ela".
        if token.startswith(p) and len(token) >= len(p) + 4:
            return token[len(p):]
    return token


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """Consonant-class skeleton of one Latin token: "baghdadi" -> "bjdd", "albghdady" -> "bjdd"."""
    t = token
    for a, b in _DIGRAPHS:
        t = t.replace(a, b)
    t = t.translate(_SINGLE)
    # Collapse doubles before dropping vowels: Arabic writes "mm" once (shadda), Latin twice.
    t = _DOUBLES.sub(r"\1", t)
    t = _VOWELS.sub("", t)
    t = _DOUBLES.sub(r"\1", t)
    # A final h is usually a written ta marbuta or a Latin "-ah"/"-hi" ending, not a consonant heard.
    return t[:-1] if len(t) > 1 and t.endswith("h") else t


def loose(skel: str) -> str:
    """A coarser class key over a skeleton (h dropped, voiced/unvoiced and g/j/k folded)."""
    return _DOUBLES.sub(r"\1", skel.translate(_LOOSE))


@dataclass(frozen=True)
class NameForm:
    """One analysed name: its Latin form, identity tokens and their skeletons (joined and loose precomputed,
    since scoring compares them many times)."""

    original: str
    latin: str
    tokens: tuple[str, ...]
    skeletons: tuple[str, ...]
    script: str
    joined: str = ""
    loose: str = ""
    token_text: str = ""
    skeleton_text: str = ""


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


@lru_cache(maxsize=200_000)
def analyse(name: str) -> NameForm:
    return from_latin(name, latin(name), script_of(name))


@lru_cache(maxsize=200_000)
def from_latin(name: str, lat: str, script: str) -> NameForm:
    """Build the form from an already transliterated name (the store keeps the Latin form and script, so
    scoring candidates never runs the transliterator again)."""
    toks = [_strip_article(t) for t in lat.split() if t not in _DROP]
    if not toks:  # a name made only of dropped words ("Al Amir") keeps them
        toks = lat.split()
    skels = tuple(s for s in (skeleton(t) for t in toks) if s)
    joined = _DOUBLES.sub(r"\1", "".join(skels))
    return NameForm(name, lat, tuple(toks), skels, script, joined, loose(joined), " ".join(toks), " ".join(skels))


@lru_cache(maxsize=200_000)
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
    return forms


def blocking_keys(form: NameForm) -> set[str]:
    """Index keys for a name: each token skeleton of two or more classes, the whole skeleton (catches words
    joined or split differently), and its first four classes (catches a differing ending)."""
    keys = {f"t:{s}" for s in form.skeletons if len(s) >= 2}
    joined = form.joined
    if joined:
        keys.add(f"j:{joined}")
        if len(joined) > 4:
            keys.add(f"p:{joined[:4]}")
        keys.add(f"l:{loose(joined)}")
    return keys


_ABJAD = str.maketrans({"o": "w", "u": "w", "i": "y", "e": "y", " ": None})


def _abjad(text: str) -> str:
    return text.translate(_ABJAD)


def _pair_score(q: NameForm, c: NameForm) -> tuple[float, list[str]]:
    """Score two analysed names in [0, 1] with the reasons that carried it."""
    if not q.tokens or not c.tokens:
        return 0.0, []
    reasons: list[str] = []
    # token_set alone scores a subset ("Pimpri" in "Pimpri-Chinchwad") as perfect; a subset is weaker evidence.
    lat = max(fuzz.token_sort_ratio(q.token_text, c.token_text), 0.9 * fuzz.token_set_ratio(
        q.token_text, c.token_text)) / 100.0
    qs, cs = q.skeleton_text, c.skeleton_text
    sk_tokens = max(fuzz.token_sort_ratio(qs, cs), 0.9 * fuzz.token_set_ratio(qs, cs)) / 100.0
    sk_joined = fuzz.ratio(q.joined, c.joined) / 100.0
    sk_loose = 0.9 * fuzz.ratio(q.loose, c.loose) / 100.0
    sk = max(sk_tokens, sk_joined, sk_loose)
    if q.joined and q.joined == c.joined:
        reasons.append("same consonant skeleton")
    if q.script != c.script:
        reasons.append(f"transliterated {q.script} to {c.script}" if q.script != "Latin"
                       else f"transliterated {c.script} to Latin")
    # Latin-form similarity is trusted more when both were written in the same script; across scripts the
    # vowels differ by construction and the skeleton speaks.
    if q.script == "Arabic" and c.script != "Arabic":
        # Render the candidate as Arabic writes it (long vowels as w/y, short ones kept as a guess) and compare
        # letter by letter: it separates "Fushun" from "Foshan" for "fwshwn", which skeletons cannot.
        abj = fuzz.ratio(q.token_text.replace(" ", ""), _abjad(c.token_text)) / 100.0
        score = max(0.7 * sk + 0.15 * lat + 0.15 * abj, lat)
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
    With ``keyed``, only pairs sharing a blocking key are scored (others cannot be the best match found
    through the index), which keeps an entity with names in three scripts from costing nine comparisons."""
    best: tuple[float, list[str], str] = (0.0, [], "")
    cands = list(candidates)
    for q in queries:
        qk = form_keys(q) if keyed else frozenset()
        for c in cands:
            if keyed and not qk & form_keys(c):
                continue
            s, r = _pair_score(q, c)
            if s > best[0]:
                best = (s, r, c.original)
    return best


def shortlist(counts: dict[int, int], size: int) -> list[int]:
    """Candidates by shared keys, most first; those sharing under half as many keys as the best are dropped
    (a true match across scripts shares several keys; a chance one shares one)."""
    ranked = sorted(counts, key=lambda i: (-counts[i], i))[:size]
    if not ranked:
        return []
    floor = max(1, counts[ranked[0]] // 2)
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
        for item in shortlist(counts, self.shortlist):
            s, r, m = best_score(qs, self.names[item])
            if s > 0:
                out.append(Match(s, item, r, m))
        # On equal scores an entity's own name is stronger evidence than one of its aliases.
        primary = {m.key: m.matched == self.names[m.key][0].original for m in out}
        out.sort(key=lambda m: (-m.score, not primary[m.key], m.key))
        return out[:limit]
