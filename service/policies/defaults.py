"""What a client gets before anyone writes a policy, and the reply texts in each language.

Replies are posted publicly under the hidden comment, so they are short, friendly and never
blame the commenter: they say what happened and why, and where to continue privately.
"""

from __future__ import annotations

from types import MappingProxyType

from service.detection import EntityType
from service.locales import Language
from service.policies.models import PolicyMode

DEFAULT_MODE = PolicyMode.HIDE
# The engine reports from 0.5; below that a value is too uncertain to hide a comment for.
DEFAULT_THRESHOLD = 0.5
DEFAULT_THRESHOLDS: MappingProxyType[str, float] = MappingProxyType(
    {t.value: DEFAULT_THRESHOLD for t in EntityType}
)
DEFAULT_SCAN_PAGE_REPLIES = True
FALLBACK_LANGUAGE = Language.EN

PLACEHOLDERS = frozenset({"private_channel_url", "client_name"})

DEFAULT_REPLY_TEMPLATES: MappingProxyType[str, str] = MappingProxyType(
    {
        Language.DA: (
            "Hej! Vi har skjult din kommentar, fordi den indeholdt personlige oplysninger, "
            "som andre ikke bør kunne se. Skriv endelig til os privat, så hjælper vi dig "
            "videre: {private_channel_url} Venlig hilsen {client_name}"
        ),
        Language.DE: (
            "Hallo! Wir haben Ihren Kommentar ausgeblendet, weil er persönliche Daten "
            "enthielt, die andere nicht sehen sollten. Schreiben Sie uns gern privat, dann "
            "helfen wir Ihnen weiter: {private_channel_url} Viele Grüße, {client_name}"
        ),
        Language.FI: (
            "Hei! Piilotimme kommenttisi, koska siinä oli henkilötietoja, joiden ei pitäisi "
            "näkyä muille. Kirjoita meille yksityisesti, niin autamme sinua mielellämme: "
            "{private_channel_url} Ystävällisin terveisin {client_name}"
        ),
        Language.SV: (
            "Hej! Vi har dolt din kommentar eftersom den innehöll personuppgifter som andra "
            "inte bör kunna se. Skriv gärna till oss privat så hjälper vi dig vidare: "
            "{private_channel_url} Vänliga hälsningar, {client_name}"
        ),
        Language.NB: (
            "Hei! Vi har skjult kommentaren din fordi den inneholdt personopplysninger som "
            "andre ikke bør kunne se. Skriv gjerne til oss privat, så hjelper vi deg videre: "
            "{private_channel_url} Vennlig hilsen {client_name}"
        ),
        Language.EN: (
            "Hi! We have hidden your comment because it contained personal information that "
            "others shouldn't be able to see. Please send us a private message and we'll be "
            "glad to help: {private_channel_url} Kind regards, {client_name}"
        ),
    }
)
