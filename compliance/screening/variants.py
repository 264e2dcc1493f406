"""The word lists name matching folds or drops: spelling variants, titles, particles.

These are data, kept apart from the algorithm in ``names`` so that a compliance officer can
read (and challenge) them. Every entry is lower-case ASCII, the form ``names`` compares.

The variant table folds the romanisations of one name to one canonical token: OFAC itself
lists the same person as "Mohammed", "Muhammad" and "Mohamad" in different aliases, and an
account holder's passport may use any of them. Jaro-Winkler alone scores some of these
pairs well ("hussein"/"husain" 0.93) and some badly ("yusuf"/"youssef" 0.82,
"osama"/"usama" 0.87, "jamal"/"gamal" 0.87), so the common ones are folded exactly and the
rest are left to the fuzzy score. Sources: the spellings that occur in OFAC's own aliases
(``alt.csv``) of the same entry, and the standard romanisations (ALA-LC, DIN 31635, the
Persian and Egyptian pronunciations of the same Arabic name).
"""

from __future__ import annotations

from types import MappingProxyType

_CANONICAL_SPELLINGS = {
    "muhammad": (
        "mohammed",
        "mohammad",
        "mohamed",
        "mohamad",
        "muhammed",
        "muhamad",
        "muhamed",
        "mohamud",
        "mohammod",
        "mohummad",
        "muhammet",
        "mohd",
        "muhd",
        "mouhamed",
        "mouhammad",
    ),
    "ahmad": ("ahmed", "ahmet", "akhmed", "achmed", "ahmat", "ahamed"),
    "mahmud": ("mahmoud", "mahmood", "mahmut", "makhmud"),
    "yusuf": (
        "youssef",
        "yousef",
        "yusef",
        "yousuf",
        "yousif",
        "yusif",
        "youcef",
        "yussuf",
        "yossef",
        "yusof",
        "jusuf",
    ),
    "husayn": (
        "hussein",
        "husain",
        "hossein",
        "husein",
        "hussain",
        "husseyn",
        "hussien",
        "houssein",
        "hosein",
        "hussin",
        "husayin",
        "hussayn",
        "hoseyn",
        "khusein",
        "khuseyn",
        "khussein",
    ),
    "hasan": ("hassan", "hasen", "hassen", "hasson"),
    "umar": ("omar", "omer", "umer", "oumar"),
    "usama": ("osama", "ousama", "oussama", "usamah", "osamah"),
    "abdullah": (
        "abdallah",
        "abdulla",
        "abdollah",
        "abdala",
        "abdalla",
        "abdellah",
        "abdulah",
        "abdullahi",
    ),
    "abd": ("abdul", "abdel", "abdal", "abdol", "abdu", "abdou", "abdo", "abdoul", "abdil"),
    "mustafa": ("mustapha", "moustafa", "mostafa", "mustefa", "moustapha"),
    "khalid": ("khaled", "khalied", "chalid"),
    "ibrahim": ("ebrahim", "ibraheem", "ibragim", "ibrahem", "brahim"),
    "ismail": ("ismael", "esmail", "ismayil", "ismoil", "esmaeil", "ismaeel"),
    "yaqub": ("yakub", "yacoub", "yaqoob", "yakoub", "yaqoub", "yacub", "yakup"),
    "jafar": ("jaafar", "jaffar", "dzhafar"),
    "nasir": ("naser", "nasser", "nassir", "nacer"),
    "hamid": ("hameed", "hamed"),
    "rashid": ("rasheed", "rachid", "rashed"),
    "majid": ("majeed", "magid", "majed", "madjid"),
    "jamal": ("gamal", "djamal", "jamaal"),
    "aziz": ("azeez",),
    "karim": ("kareem", "kerim"),
    "rahman": ("rehman", "rahmane", "rakhman"),
    "rahim": ("raheem", "rakhim"),
    "salih": ("saleh",),
    "sulayman": (
        "sulaiman",
        "suleiman",
        "soliman",
        "sleiman",
        "suleyman",
        "sulejman",
        "suleman",
        "solayman",
        "sulaymon",
    ),
    "yunus": ("younis", "younes", "yunis", "yunes", "younus", "yonis"),
    "musa": ("moussa", "mousa", "moosa", "mussa"),
    "isa": ("issa", "eisa"),
    "zakariya": ("zakaria", "zakariyya", "zakariyah", "zakariah", "zakarya"),
    "qasim": ("kasim", "qassem", "qasem", "kassem", "kasem", "qassim", "kassim", "gasem"),
    "mahdi": ("mehdi",),
    "reza": ("riza", "rida", "ridha"),
    "ghulam": ("gholam", "golam", "gulam", "ghoulam"),
    "faisal": ("faysal", "feisal", "faycal"),
    "bashir": ("basheer", "beshir", "bachir"),
    "habib": ("habeeb",),
    "tariq": ("tarek", "tarik", "tareq", "tarak"),
    "walid": ("waleed", "oualid"),
    "zayd": ("zaid", "zeid", "zayed"),
    "nur": ("noor", "nour"),
    "jalal": ("djalal",),
    "abbas": ("abas",),
    "ali": ("aly",),
    "bin": ("ibn", "ben", "bint", "binti"),
    "abu": ("abou", "abo", "bou"),
    "aleksandr": ("alexander", "alexandr", "aleksander", "oleksandr", "alexandre"),
    "sergey": ("sergei", "serhiy", "sergiy", "serhii"),
    "yevgeny": ("evgeny", "yevgeniy", "evgeniy", "yevgeni", "evgenii", "yevhen"),
    "dmitry": ("dmitri", "dmitriy", "dmitrii", "dmytro"),
    "yury": ("yuri", "yuriy", "yurii", "iurii"),
    "andrey": ("andrei", "andriy", "andrii"),
    "aleksey": ("alexei", "aleksei", "alexey", "oleksiy", "oleksii"),
    "nikolay": ("nikolai", "mykola"),
    "mikhail": ("mikhael", "mykhailo"),
    "vyacheslav": ("viacheslav", "vyacheslaw"),
    "anatoly": ("anatoliy", "anatolii"),
    "vasily": ("vasiliy", "vasilii", "vasyl"),
    "grigory": ("grigoriy", "grigorii", "hryhoriy"),
}
"""Canonical token -> its other romanisations (folded exactly, before fuzzy scoring)."""

SPELLING_VARIANTS = MappingProxyType(
    {
        variant: canonical
        for canonical, variants in _CANONICAL_SPELLINGS.items()
        for variant in variants
        if variant != canonical
    }
)
"""Every variant -> its canonical token; canonical tokens are never keys (folding twice is
folding once)."""

HONORIFICS = frozenset(
    {
        # forms of address and academic or religious titles
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "shaykh",
        "sheikh",
        "shaikh",
        "sheik",
        "shaik",
        "cheikh",
        "sheykh",
        "mullah",
        "mulla",
        "molla",
        "mollah",
        "haji",
        "hajji",
        "hadji",
        "hajj",
        "hadj",
        "alhaji",
        "alhaj",
        "sayyid",
        "sayyed",
        "seyyed",
        "seyed",
        "sayed",
        "syed",
        "sayid",
        "maulana",
        "mawlana",
        "maulvi",
        "mawlawi",
        "moulvi",
        "mawlavi",
        "maulawi",
        "mufti",
        "ustad",
        "ustadh",
        "ustaz",
        "eng",
        "engineer",
        # military ranks, which OFAC writes into names ("General", "Colonel")
        "general",
        "gen",
        "colonel",
        "col",
        "brigadier",
        "brig",
        "lieutenant",
        "lt",
        "captain",
        "capt",
        "admiral",
        "adm",
        "marshal",
        "sergeant",
        "sgt",
        # suffixes of generation and degree
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "md",
        "phd",
        "dds",
        "dvm",
        "esq",
    }
)
"""Words dropped from a name: they say what someone is, not who. A name made only of them
(an entity called "GENERAL") keeps them, so that it still has something to match."""

PARTICLES = frozenset(
    {
        "al",
        "el",
        "ul",
        "ud",
        "ad",
        "ar",
        "as",
        "an",
        "ash",
        "az",
        "at",
        "bin",
        "abu",
        "abd",
        "de",
        "del",
        "der",
        "den",
        "di",
        "da",
        "do",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "van",
        "von",
        "y",
        "e",
        "of",
        "the",
        "and",
    }
)
"""Connecting words (Arabic article, "son of", "father of", Romance and Germanic
nobiliary particles, "of"/"the"/"and" in entity names). They are kept and compared, but
with a small weight, and do not count as a name word for the short-name rule."""

ABD_ARTICLES = frozenset({"al", "el", "ul", "ar", "ur", "as", "us", "ad", "an", "ash", "az"})
"""The article between "Abd" and the divine name it prefixes ("Abd al-Rahman",
"Abd ar-Rahman"): dropped there, so every spelling of the compound reads ("abd", X)."""
