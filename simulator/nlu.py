"""A small deterministic keyword intent classifier (Swedish and English) for the fake
backend's `/api/nlu/classify`, with a gold sample to measure its accuracy against.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The guide's CostOptimizedRouter: these intents take the fast path (OpenAI).
FAST_INTENTS = frozenset({"GREETING", "ACKNOWLEDGMENT", "TIME_DATE", "WEATHER",
                          "SIMPLE_MATH", "TRANSLATION"})

# Order breaks ties: specific intents before the generic COMPLEX_REASONING.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "GREETING": ("hej", "hejsan", "hallå", "tjena", "tja", "god morgon", "god kväll",
                 "hello", "hi", "hey", "good morning", "good evening"),
    "ACKNOWLEDGMENT": ("tack", "tackar", "okej", "ok", "okay", "perfekt", "toppen",
                       "thanks", "thank you", "great", "got it"),
    "TIME_DATE": ("klockan", "tid", "tiden", "datum", "datumet", "vilken dag", "veckodag",
                  "time", "date", "what day"),
    "WEATHER": ("väder", "vädret", "regn", "regna", "regnar", "snö", "snöar", "temperatur",
                "grader", "prognos", "paraply", "weather", "rain", "raining", "snow",
                "forecast", "temperature", "sunny", "umbrella"),
    "SIMPLE_MATH": ("plus", "minus", "gånger", "delat med", "multiplicerat", "räkna",
                    "procent", "calculate", "times", "divided by", "percent"),
    "TRANSLATION": ("översätt", "översätta", "översättning", "på engelska", "på svenska",
                    "på tyska", "på franska", "till engelska", "till svenska",
                    "till tyska", "translate", "translation", "in english",
                    "in swedish", "in spanish", "in german"),
    "CALENDAR": ("kalender", "kalendern", "möte", "mötet", "möten", "boka", "påminn",
                 "påminnelse", "schema", "calendar", "meeting", "meetings", "schedule",
                 "appointment", "remind", "reminder"),
    "MUSIC": ("spela", "musik", "låt", "låten", "spotify", "spellista", "volym", "pausa",
              "play", "music", "song", "playlist"),
    "EMAIL": ("mejl", "mejla", "mail", "mailen", "e-post", "epost", "inkorg", "inkorgen",
              "email", "e-mail", "inbox"),
    "COMPLEX_REASONING": ("förklara", "varför", "analysera", "jämför", "jämföra", "planera",
                          "sammanfatta", "strategi", "fördelar", "nackdelar", "explain", "why",
                          "analyze", "analyse", "compare", "summarize", "pros and cons"),
}
INTENTS: tuple[str, ...] = tuple(KEYWORDS)
_ARITHMETIC = re.compile(r"\d+\s*[-+*/x×]\s*\d+")
_WORDS = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    route: str
    latency_ms: float

    def as_dict(self) -> dict:
        return {"intent": self.intent, "confidence": self.confidence, "route": self.route,
                "latency_ms": self.latency_ms}


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _score(text: str) -> tuple[str, int]:
    lowered = text.lower()
    words = _WORDS.findall(lowered)
    joined = f" {' '.join(words)} "
    best, best_score = "COMPLEX_REASONING", 0
    for intent, keywords in KEYWORDS.items():
        score = sum(1 for k in keywords if f" {k} " in joined)
        if intent == "SIMPLE_MATH" and _ARITHMETIC.search(lowered):
            score += 2
        if score > best_score:
            best, best_score = intent, score
    return best, best_score


def classify(text: str, *, degraded_accuracy: bool = False, slow: bool = False
             ) -> Classification:
    """Classify `text`; `degraded_accuracy` makes ~25 % of texts (by hash) come out wrong."""
    intent, score = _score(text)
    confidence = min(0.97, 0.72 + 0.1 * score) if score else 0.55
    h = _hash(text)
    if degraded_accuracy and h % 100 < 25:
        index = INTENTS.index(intent)
        intent = INTENTS[(index + 1 + h % (len(INTENTS) - 1)) % len(INTENTS)]
        confidence = 0.3 + (h % 20) / 100
    latency = 8.0 + (h % 1500) / 100 + 2 * score
    if slow:
        latency *= 4
    route = "fast" if intent in FAST_INTENTS else "think"
    return Classification(intent, round(confidence, 2), route, round(latency, 1))


GOLD_SAMPLE: tuple[tuple[str, str], ...] = (
    ("Hej Alice!", "GREETING"),
    ("Hejsan, hur mår du?", "GREETING"),
    ("God morgon", "GREETING"),
    ("Hello there", "GREETING"),
    ("Hi Alice", "GREETING"),
    ("Tack så mycket", "ACKNOWLEDGMENT"),
    ("Okej, perfekt", "ACKNOWLEDGMENT"),
    ("Thanks a lot", "ACKNOWLEDGMENT"),
    ("Vad är klockan?", "TIME_DATE"),
    ("Vilket datum är det idag?", "TIME_DATE"),
    ("What time is it in Tokyo?", "TIME_DATE"),
    ("Vilken dag är det?", "TIME_DATE"),
    ("Hur blir vädret i Göteborg imorgon?", "WEATHER"),
    ("Kommer det att regna idag?", "WEATHER"),
    ("What's the weather like?", "WEATHER"),
    ("Will it snow this weekend?", "WEATHER"),
    ("Vad är 12 plus 7?", "SIMPLE_MATH"),
    ("Räkna 45 gånger 3", "SIMPLE_MATH"),
    ("What is 15 * 4?", "SIMPLE_MATH"),
    ("Calculate 20 percent of 80", "SIMPLE_MATH"),
    ("Översätt hej till tyska", "TRANSLATION"),
    ("Hur säger man katt på engelska?", "TRANSLATION"),
    ("Translate good night into Swedish", "TRANSLATION"),
    ("Boka ett möte med Anna på fredag", "CALENDAR"),
    ("Vad har jag i kalendern imorgon?", "CALENDAR"),
    ("Schedule a meeting with the team", "CALENDAR"),
    ("Påminn mig om tandläkaren", "CALENDAR"),
    ("Spela lite jazz på Spotify", "MUSIC"),
    ("Spela nästa låt", "MUSIC"),
    ("Play some music", "MUSIC"),
    ("Skicka ett mejl till Erik", "EMAIL"),
    ("Har jag fått någon e-post?", "EMAIL"),
    ("Check my inbox", "EMAIL"),
    ("Read my latest email", "EMAIL"),
    ("Förklara skillnaden mellan kvantdatorer och vanliga datorer", "COMPLEX_REASONING"),
    ("Varför är himlen blå?", "COMPLEX_REASONING"),
    ("Jämför för- och nackdelar med elbilar", "COMPLEX_REASONING"),
    ("Explain how transformers work", "COMPLEX_REASONING"),
    ("Analyze my spending habits and suggest a strategy", "COMPLEX_REASONING"),
    ("Summarize the pros and cons of remote work", "COMPLEX_REASONING"),
)
