"""What the API's fields mean: one place for the descriptions and examples of the OpenAPI document.

A field is looked up as ``Schema.field`` first, then by its name alone (the same name means the
same thing across schemas: ``client_id`` is always the client). A description or example given
on the Struct itself (``msgspec.Meta(description=..., examples=[...])``) wins over these. Ids,
timestamps, enums and booleans get examples from their type (service/api/openapi.py); free text
and numbers need one here or in ``Meta``. tests/api/test_openapi.py fails when a property of the
document has no description or example, so a new field is described where it is added or here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXAMPLE_URI = "https://www.facebook.com/acme.dk/posts/1029384756_5647382910"
_ENTITY_KEYS = {"$ref": "#/components/schemas/EntityType"}
_LANGUAGE_KEYS = {"$ref": "#/components/schemas/Language"}


@dataclass(frozen=True, slots=True)
class Doc:
    description: str
    example: Any = None
    # Schema keywords the field's type cannot say (``format``, ``propertyNames``).
    extra: dict[str, Any] = field(default_factory=dict)
    # A map or inline object worth a name of its own in generated clients.
    component: str | None = None


_UNKNOWN = Doc("")

POLICY_FIELDS = (
    "mode",
    "thresholds",
    "allowlist",
    "custom_patterns",
    "reply_templates",
    "default_language",
    "scan_page_replies",
)

# Schemas the document gains that no Struct declares (values of maps).
EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {
    "PolicySource": {
        "type": "string",
        "enum": ["default", "client", "connection"],
        "description": "`default`: Wallguard's default; `client`: the client's policy; "
        "`connection`: the connection's override.",
    },
}

SCHEMAS: dict[str, str] = {
    "ActionKind": "What a moderation action does on the platform.",
    "ActionStatus": "Where a moderation action stands.",
    "ApiKey": "An API key (never its secret).",
    "ApiKeyCreate": "A new API key: its name, scopes and optional client and expiry.",
    "ApiKeyCreated": "The new key, with its secret: shown once, never again.",
    "ApiKeyList": "A page of API keys, newest first.",
    "AuditChainReport": "Whether the audit log's hash chain is intact.",
    "AuditEvent": "One entry of the tamper-evident audit log.",
    "AuditEventList": "A page of audit events.",
    "AuditOrder": "The order audit events are listed in.",
    "Client": "A company the agency works for.",
    "ClientCreate": "A new client.",
    "ClientList": "A page of clients, newest first.",
    "ClientUpdate": "Changes to a client: only the fields sent change; null clears a field.",
    "Connection": "A Facebook Page or Instagram account Wallguard watches for a client.",
    "ConnectionList": "A page of connections, newest first.",
    "ConnectionPolicy": "A connection's overrides of its client's policy (null: inherited).",
    "ConnectionPolicyUpdate": "Changes to a connection's overrides; null goes back to the "
    "client's value.",
    "ConnectionStatus": "Whether Wallguard can watch the connection.",
    "ConnectionUpdate": "Changes to a connection: only the fields sent change.",
    "CustomPattern": "A company's own value format (RE2 syntax), e.g. customer numbers.",
    "DayTypeCount": "Findings of one type on one day.",
    "DetectRequest": "Text to run detection on (nothing is stored).",
    "DetectResponse": "What detection found in the text.",
    "DetectedEntity": "One value found in the text.",
    "EffectivePolicy": "The policy that applies to a connection after merging defaults, the "
    "client's policy and the connection's overrides.",
    "Entity": "One value found in a comment: where, what kind, how sure, and its masked form.",
    "FieldError": "One invalid field of a request.",
    "Finding": "Personal data found in a comment, and what Wallguard did about it. Never the "
    "comment's text or a raw value: the excerpt is masked and `fingerprints` are keyed hashes.",
    "FindingList": "A page of findings.",
    "FindingSource": "How Wallguard came to read the comment.",
    "FindingStatus": "What happened to the comment.",
    "Health": "The process is up.",
    "Language": "A language Wallguard reads and replies in (ISO 639-1).",
    "ModerationAction": "One action Wallguard takes on the platform (hide, unhide, reply).",
    "OAuthStart": "Which client to connect pages for, and where to send the browser after.",
    "OAuthStarted": "Where to send the page admin's browser.",
    "Platform": "The social platform of a connection.",
    "Policy": "A client's policy: what Wallguard does with what it finds.",
    "PolicyMode": "`hide` hides comments with personal data; `report` only records findings.",
    "PolicyUpdate": "Changes to a client's policy: only the fields sent change.",
    "Readiness": "Whether the database and Redis answer.",
    "Scan": "A backfill of a connection's history and its progress.",
    "ScanCreate": "Which connection to scan, optionally only posts created in a time range.",
    "ScanList": "A page of scans.",
    "ScanStatus": "Where a scan stands.",
    "Scope": "What an API key may do: `read`, `detect`, or `admin` (everything).",
    "Stats": "Counts and timings over a time range, for dashboards.",
    "StatusCounts": "Findings by what happened to them.",
    "Tenant": "Your account.",
    "TenantKind": "An agency (with clients) or a single company.",
    "TenantUpdate": "Changes to your account: only the fields sent change.",
    "TimeToHide": "How long hiding took, from the comment arriving to it being hidden.",
    "TypeCount": "Findings of one type.",
    "UnhideAccepted": "The unhide is recorded and queued.",
    # Outbound webhooks (issue 11).
    "WebhookEndpoint": "A URL of yours that Wallguard sends signed events to.",
    "WebhookEndpointWithSecret": "The endpoint with its signing secret: shown on creation and "
    "rotation only.",
    "WebhookEndpointCreate": "A new webhook endpoint.",
    "WebhookEndpointUpdate": "Changes to an endpoint: only the fields sent change.",
    "WebhookEndpointList": "A page of webhook endpoints.",
    "WebhookDelivery": "One event sent to one endpoint; its `id` is the `webhook-id` header.",
    "WebhookDeliveryDetail": "A delivery with its attempts and the signed body as sent.",
    "WebhookDeliveryList": "A page of webhook deliveries.",
    "WebhookAttempt": "One try to deliver an event.",
    "WebhookEventType": "An event Wallguard sends, with the JSON Schema of its body.",
    "WebhookEventTypeList": "Every event type Wallguard sends.",
    "ReplayRequest": "Send failed deliveries again from this time on.",
    "ReplayAccepted": "How many failed deliveries were queued again.",
    "DeliveryStatus": "Where a delivery stands.",
    "EventType": "The name of an event Wallguard sends.",
    "WebhookAck": "How many changes of Meta's delivery were received and stored.",
    "WebhookEntity": "One value found in the comment, masked: never the value itself.",
    "FindingEventData": "The finding the event is about.",
    "CommentEventData": "The comment the event is about and the action taken on it.",
    "ScanEventData": "The scan the event is about.",
    "ConnectionEventData": "The connection the event is about.",
    "EndpointDisabledEventData": "The endpoint Wallguard stopped sending to.",
    "WebhookTestData": "A test event's contents.",
    # Retention and data subjects (issue 15).
    "RetentionPeriods": "Days each kind of record is kept, counted from when Wallguard "
    "received or finished it.",
    "TenantRetention": "The tenant's retention periods (its own or the defaults).",
    "TenantRetentionUpdate": "Changes to the tenant's periods; null goes back to the default.",
    "ClientRetention": "A client's retention: its overrides and what applies.",
    "ClientRetentionOverrides": "What the client sets itself; null inherits the tenant's period.",
    "ClientRetentionUpdate": "Changes to a client's overrides; null inherits again.",
    "ErasureRequest": "A request to erase everything held about one comment author.",
    "ErasureRequestCreate": "Whose data to erase: `platform` and `author_id`, or a `finding_id`.",
    "ErasureRequestList": "A page of erasure requests.",
    "ErasureStatus": "Where an erasure request stands.",
    "SubjectData": "Everything held about one author, masked, for an access request (GDPR "
    "art. 15).",
    "SubjectFinding": "A finding about the author, masked.",
    "SubjectEntity": "One value found, masked.",
    "TenantDeletion": "What deleting the tenant did.",
    "TenantDeletionRequest": "Confirms the deletion of the whole tenant.",
    # Service hours and response times (issue 12).
    "ServiceHours": "When a client's (or connection's) team answers comments, and what it "
    "promises.",
    "ServiceHoursUpdate": "The service hours as a whole (replaces what is stored).",
    "EffectiveServiceHours": "The service hours that apply to a connection, and where they "
    "come from.",
    "WeeklyHours": "Opening hours per weekday; a day left out is closed.",
    "OpeningHours": "One open interval of a day, in the service hours' time zone.",
    "DateException": "A date with hours of its own, replacing its weekday's.",
    "ResponseTimes": "First-response times over customer comments in a time range.",
    "ResponseFigures": "Customer comments in the range and the page's first replies to them.",
    "UnansweredComment": "A customer comment the page has not replied to yet.",
    "UnansweredPage": "A page of unanswered comments, oldest first.",
    "Storm": "A burst of comments on one post, far above its usual rate.",
    "StormCounts": "Comments in a storm, by what happened to them.",
    "StormPage": "A page of storms.",
    "StormPost": "The post a storm is on.",
    "StormPostData": "A post a storm is on, and its comments in the storm.",
    "StatsLinks": "Where to read more detail on the figures.",
}

FIELDS: dict[str, Doc] = {
    # Ids and references.
    "id": Doc("The resource's id (a UUIDv7: sorts by creation time)."),
    "client_id": Doc("The client (a company the agency works for) this belongs to."),
    "connection_id": Doc("The connection (page or account) this belongs to."),
    "finding_id": Doc("The finding this action is about (null for replies to no finding)."),
    "scan_id": Doc("The scan that found it (null when it arrived live)."),
    "key_id": Doc("The API key's id."),
    "comment_id": Doc("The comment's id on the platform.", "1029384756_5647382910"),
    "post_id": Doc("The id on the platform of the post the comment is under.", "1029384756"),
    "parent_id": Doc(
        "The comment this one replies to, on the platform (null for top-level comments).",
        "1029384756_5647382901",
    ),
    "author_id": Doc(
        "The commenter's id on the platform (app-scoped; null when the platform withholds it).",
        "7382910564738291",
    ),
    "external_id": Doc("The page's or account's id on the platform.", "1029384756"),
    "linked_page_id": Doc(
        "For an Instagram account: the Facebook Page it is linked to.", "1029384756"
    ),
    "result_id": Doc("The platform's id of what the action created (a reply's id).", "2938_47"),
    "external_ref": Doc("Your own reference for the client (e.g. a CRM id).", "CRM-10442"),
    "subject_id": Doc("The id of what the event is about.", "0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70"),
    # Names and text.
    "name": Doc("A name people recognise it by.", "Acme Denmark"),
    "ApiKey.name": Doc("What the key is for.", "Dashboard sync"),
    "ApiKeyCreate.name": Doc("What the key is for.", "Dashboard sync"),
    "ApiKeyCreated.name": Doc("What the key is for.", "Dashboard sync"),
    "CustomPattern.name": Doc("What the values are.", "Customer number"),
    "Tenant.name": Doc("Your agency's or company's name.", "Nordic Social Agency"),
    "TenantUpdate.name": Doc("Your agency's or company's name.", "Nordic Social Agency"),
    "Connection.name": Doc("The page's or account's name on the platform.", "Acme Danmark"),
    "prefix": Doc("The key's public prefix: tells keys apart in lists and logs.", "wg_3f9a2c"),
    "secret": Doc(
        "The whole API key. Shown once: store it now; Wallguard keeps only a hash.",
        "wg_3f9a2c_9Qm4Zr7tYb2Kx8Lp1Vn6Hc3Ws5Jd0Fg",
    ),
    "scopes": Doc("What the key may do; `admin` includes the others."),
    "country": Doc(
        "ISO 3166-1 alpha-2 country: the region phone numbers and IDs are read for.", "DK"
    ),
    "default_language": Doc("The language replies are written in when a comment's is unknown."),
    "language": Doc("The comment's language as Wallguard guessed it (null: not sure)."),
    "lang": Doc("The text's language, if known (helps tell numbers apart).", "da"),
    "region": Doc("ISO 3166-1 alpha-2 country to read phone numbers and IDs for.", "DK"),
    "text": Doc("The text to look in (at most 10,000 characters).", "Ring mig på 20 30 40 50"),
    "private_channel_url": Doc(
        "Where replies send people instead of posting personal data (a contact form or "
        "messenger link); the `{private_channel_url}` placeholder of reply templates.",
        "https://acme.dk/kontakt",
        {"format": "uri"},
    ),
    "permalink_url": Doc(
        "The comment on the platform (null when the platform gave none).",
        EXAMPLE_URI,
        {"format": "uri"},
    ),
    "authorization_url": Doc(
        "Meta's consent screen: send the page admin's browser here.",
        "https://www.facebook.com/v21.0/dialog/oauth?client_id=1234&state=eyJ0",
        {"format": "uri"},
    ),
    "redirect_to": Doc(
        "Where the browser goes after consent (your app); Wallguard adds "
        "`wallguard=connected&connections=<n>`.",
        "https://dashboard.example.org/clients/42",
        {"format": "uri"},
    ),
    "page_ids": Doc(
        "Connect only these pages (ids on the platform); all the admin granted when left out.",
        ["1029384756"],
    ),
    "masked": Doc("The value with most characters replaced by `*`.", "20 ** ** 50"),
    "masked_excerpt": Doc(
        "The comment with every value found masked (never the raw text).",
        "Ring mig på 20 ** ** 50 angående min ordre",
    ),
    "fingerprints": Doc(
        "Keyed hashes of the values found: match repeats and erasure requests without the values.",
        ["hm1:Zp3q9c0aVx2yT4k8"],
    ),
    "types": Doc("The kinds of personal data found in the comment."),
    "entities": Doc("Each value found: where, what kind, how sure."),
    "start": Doc("Where the value starts in the text (code point offset).", 12),
    "end": Doc("Where the value ends in the text (code point offset, exclusive).", 23),
    "score": Doc("How sure detection is that this is personal data (0 to 1).", 0.97),
    "max_score": Doc("The highest score among the values found.", 0.97),
    "CustomPattern.score": Doc("The score values matching the pattern get (0 to 1).", 0.9),
    "pattern": Doc("An RE2 regular expression for the values.", "KN-\\d{6}"),
    "allowlist": Doc(
        "The company's own public numbers and addresses: never treated as personal.",
        ["+45 70 10 20 30", "kundeservice@acme.dk"],
    ),
    "custom_patterns": Doc("The company's own value formats to find, such as customer numbers."),
    "thresholds": Doc(
        "The types that act and each one's minimum score; types left out never act.",
        {"PHONE_NUMBER": 0.6, "DK_CPR": 0.5},
        {"propertyNames": _ENTITY_KEYS},
        component="Thresholds",
    ),
    "reply_templates": Doc(
        "Reply texts per language; placeholders `{private_channel_url}` and `{client_name}`. "
        "Languages left out use Wallguard's default text.",
        {"da": "Vi har skjult din kommentar. Skriv til os på {private_channel_url}."},
        {"propertyNames": _LANGUAGE_KEYS},
        component="ReplyTemplates",
    ),
    "sources": Doc(
        "Where each field of the effective policy came from.",
        {"mode": "client", "thresholds": "default"},
        {
            "propertyNames": {"enum": list(POLICY_FIELDS)},
            "additionalProperties": {"$ref": "#/components/schemas/PolicySource"},
        },
        component="PolicySources",
    ),
    "mode": Doc("`hide` hides comments with personal data; `report` only records findings."),
    "scan_page_replies": Doc(
        "Also check the page's own replies (staff sometimes paste customer data)."
    ),
    "stored": Doc("False while this is Wallguard's default (nothing saved yet)."),
    "tasks": Doc(
        "What the page token may do on the page (Meta's task names).", ["MODERATE", "ANALYZE"]
    ),
    "platform": Doc("The social platform."),
    "status_reason": Doc(
        "Why the connection needs attention (null when active).",
        "The page token was revoked by the page admin.",
    ),
    "last_error": Doc(
        "The last error, in words (never a platform response or comment text).",
        "The platform refused: the token lacks the MODERATE task.",
    ),
    # Statuses and kinds.
    "status": Doc("Where it stands."),
    "Finding.status": Doc("What happened to the comment."),
    "Connection.status": Doc("Whether Wallguard can watch the connection."),
    "ConnectionUpdate.status": Doc("`paused` stops watching; `active` resumes."),
    "Health.status": Doc("Always `ok`.", "ok"),
    "Readiness.status": Doc("`ok` when both answer, else `unavailable`.", "ok"),
    "Problem.status": Doc("The HTTP status code.", 404),
    "kind": Doc("What kind it is."),
    "source": Doc("How Wallguard came to read the comment: live (webhook or poll) or a scan."),
    "by_page": Doc("The comment was written by the page itself."),
    "database": Doc("PostgreSQL answers."),
    "redis": Doc("Redis answers."),
    # Counts and numbers.
    "attempts": Doc("How many times it was tried on the platform.", 1),
    "posts_scanned": Doc("Posts walked so far.", 120),
    "comments_scanned": Doc("Comments read so far.", 4312),
    "Scan.findings": Doc("Comments with personal data the scan found.", 17),
    "Scan.hidden": Doc("How many of them are hidden now.", 15),
    "Scan.errors": Doc("Comments that could not be handled (retried by later scans).", 0),
    "rate": Doc("Comments per second since the scan started (null before it starts).", 38.5),
    "findings": Doc("Findings in the range.", 42),
    "DetectResponse.findings": Doc("Each value found, in text order."),
    "count": Doc("How many.", 12),
    "day": Doc("The day (UTC).", "2026-12-01", {"format": "date"}),
    "type": Doc("The kind of personal data."),
    "TypeCount.type": Doc("The kind of personal data.", "PHONE_NUMBER"),
    "DayTypeCount.type": Doc("The kind of personal data.", "PHONE_NUMBER"),
    "by_day": Doc("Findings per day and type."),
    "by_type": Doc("Findings per type."),
    "by_status": Doc("Findings by what happened to them."),
    "time_to_hide": Doc("How long hiding took."),
    "unhide_rate": Doc(
        "The share of hidden comments unhidden again (a false-positive signal; null when none "
        "were hidden).",
        0.02,
    ),
    "p50_ms": Doc("Median milliseconds from receiving a comment to hiding it.", 850),
    "p95_ms": Doc("95th percentile of the same.", 2400),
    "samples": Doc("How many hides the percentiles are over.", 311),
    "monitored": Doc(
        "Found but no action taken (policy in `report` mode or below a threshold).", 3
    ),
    "pending_hide": Doc("A hide is queued.", 1),
    "StatusCounts.hidden": Doc("Hidden on the platform.", 35),
    "hide_failed": Doc("The platform refused the hide.", 0),
    "unhidden": Doc("Hidden, then restored.", 1),
    "reported": Doc("Recorded only (policy `report`).", 2),
    "confirmed": Doc("Reviewed and confirmed right.", 5),
    "retention_days": Doc("Days findings and events are kept before they are deleted.", 365),
    "received": Doc("Changes in the delivery.", 3),
    "duplicates": Doc("Changes already received before.", 0),
    "WebhookAck.stored": Doc("Changes stored.", 3),
    # Time.
    "created_at": Doc("When it was created."),
    "updated_at": Doc("When it last changed: the `updated_since` change feeds order by it."),
    "expires_at": Doc("When it stops working (null: never)."),
    "OAuthStarted.expires_at": Doc("When the consent link stops working (15 minutes)."),
    "last_used_at": Doc("When the key was last used (to the minute; null: never)."),
    "revoked_at": Doc("When the key was revoked (null: it works)."),
    "comment_created_at": Doc("When the comment was written, per the platform."),
    "received_at": Doc("When Wallguard received the comment."),
    "hidden_at": Doc("When the platform confirmed the hide (null: not hidden)."),
    "replied_at": Doc("When Wallguard's reply was posted (null: none)."),
    "reviewed_at": Doc("When someone confirmed the finding (null: not reviewed)."),
    "reviewed_by": Doc("Who confirmed it: the API key's actor id.", "api_key:0193c4e2"),
    "requested_by": Doc("Who asked for it: an API key's actor id, or `system`.", "system"),
    "since": Doc("Start of the time range (inclusive)."),
    "until": Doc("End of the time range (exclusive)."),
    "started_at": Doc("When the scan started working (null: still pending)."),
    "finished_at": Doc("When it ended (null: still running)."),
    "heartbeat_at": Doc("When the scan last reported progress."),
    "done_at": Doc("When the platform confirmed the action (null: not yet)."),
    "last_event_at": Doc("When the platform last sent a change for the page."),
    "last_polled_at": Doc("When Wallguard last polled the page for comments."),
    "subscribed_at": Doc("When the app was subscribed to the page's webhooks."),
    "occurred_at": Doc("When it happened."),
    "checked_at": Doc("When the chain was checked."),
    # Lists.
    "items": Doc("This page's items."),
    "next_cursor": Doc(
        "Pass as `cursor` for the next page; null on the last page.",
        "djE6MDE5M2M0ZTI3YTEwN2MzZTlmMWEyYjNjNGQ1ZTZmNzA",
    ),
    # Audit.
    "action": Doc("What was done.", "client.created"),
    "UnhideAccepted.action": Doc("The queued unhide."),
    "UnhideAccepted.finding": Doc("The finding, as it is now."),
    "actor": Doc("Who did it: an API key's actor id, or `system`.", "api_key:0193c4e2"),
    "data": Doc(
        "What changed (field names and non-personal values).", {"fields": ["name", "country"]}
    ),
    "hash": Doc("SHA-256 over this event and the previous hash (hex).", "9f86d081884c7d65"),
    "prev_hash": Doc("The previous event's hash (hex).", "2c26b46b68ffc68f"),
    "seq": Doc("The event's position in the tenant's chain.", 1042),
    "subject_type": Doc("What kind of thing the event is about.", "client"),
    "order": Doc("`asc` lists the oldest event first, `desc` the newest."),
    "valid": Doc("The chain is intact."),
    "events": Doc("Events checked.", 1042),
    "first_seq": Doc("The first event checked.", 1),
    "last_seq": Doc("The last event checked.", 1042),
    "broken_at_seq": Doc("The first event whose hash does not match (null: none).", 77),
    "reason": Doc("Why the chain is broken, in words.", "hash mismatch"),
    # Outbound webhooks (issue 11).
    "url": Doc(
        "Where to read it in the API (GET it with an API key).",
        "https://api.wallguard.io/v1/findings/0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70",
        {"format": "uri"},
    ),
    "WebhookEndpoint.url": Doc(
        "Your HTTPS URL that receives the events.",
        "https://hooks.example.com/wallguard",
        {"format": "uri"},
    ),
    "WebhookEndpointWithSecret.url": Doc(
        "Your HTTPS URL that receives the events.",
        "https://hooks.example.com/wallguard",
        {"format": "uri"},
    ),
    "WebhookEndpointCreate.url": Doc(
        "Your HTTPS URL that receives the events.",
        "https://hooks.example.com/wallguard",
        {"format": "uri"},
    ),
    "WebhookEndpointUpdate.url": Doc(
        "Your HTTPS URL that receives the events.",
        "https://hooks.example.com/wallguard",
        {"format": "uri"},
    ),
    "endpoint_url": Doc(
        "The endpoint's URL.", "https://hooks.example.com/wallguard", {"format": "uri"}
    ),
    "description": Doc("Your note on what it is for.", "Dashboard sync"),
    "WebhookEventType.description": Doc(
        "When Wallguard sends the event.", "A comment with personal data was found."
    ),
    "schema": Doc("The JSON Schema (2020-12) of the whole body.", {"type": "object"}),
    "event_types": Doc("The events sent to it; empty: every event type."),
    "enabled": Doc("Wallguard sends to it (false: paused or disabled after failing)."),
    "disabled_reason": Doc(
        "Why Wallguard disabled it (null while enabled).", "Every attempt failed for 5 days."
    ),
    "disabled_at": Doc("When it was disabled (null while enabled)."),
    "failing_since": Doc(
        "Since when every attempt has failed (null after a success); disabled after 5 days."
    ),
    "previous_secret_expires_at": Doc(
        "Until then the previous secret signs too (after a rotation)."
    ),
    "endpoint_id": Doc("The webhook endpoint."),
    "event_id": Doc("The event: the same for every endpoint it is sent to."),
    "event_type": Doc("The event's name."),
    "attempt_count": Doc("Attempts so far.", 1),
    "next_attempt_at": Doc("When the next attempt is due (pending deliveries only)."),
    "last_attempt_at": Doc("When it was last tried."),
    "last_status_code": Doc("Your endpoint's last HTTP status (null: no answer).", 200),
    "succeeded_at": Doc("When your endpoint accepted it (null: not yet)."),
    "attempted_at": Doc("When it was tried."),
    "status_code": Doc("Your endpoint's HTTP status (null: no answer).", 200),
    "duration_ms": Doc("How long your endpoint took to answer.", 84.5),
    "error": Doc(
        "What went wrong, in words (null: nothing).", "The endpoint did not answer in 10 s."
    ),
    "response_excerpt": Doc("The first 1 KiB of your endpoint's answer.", "ok"),
    "payload": Doc(
        "The signed body as sent: `type`, `timestamp`, `data`.",
        {"type": "finding.created", "timestamp": "2026-12-01T09:30:00Z", "data": {}},
    ),
    "WebhookDeliveryDetail.attempts": Doc("Each try, newest first."),
    "replayed": Doc("Failed deliveries queued again (each keeps its `webhook-id`).", 3),
    "ScanEventData.findings": Doc("Comments with personal data the scan found.", 17),
    "ScanEventData.hidden": Doc("How many of them are hidden now.", 15),
    "ScanEventData.errors": Doc("Comments that could not be handled.", 0),
    "ConnectionEventData.reason": Doc(
        "Why the connection changed (null when connected).",
        "The page token was revoked by the page admin.",
    ),
    "EndpointDisabledEventData.reason": Doc(
        "Why Wallguard stopped sending.", "Every attempt failed for 5 days."
    ),
    "WebhookTestData.message": Doc("A fixed text.", "This is a test event from Wallguard."),
    "FindingEventData.finding_id": Doc("The finding."),
    "delivery_id": Doc("The delivery's id (the `webhook-id` header it was sent with)."),
    "tenant_id": Doc("Your tenant."),
    "action_id": Doc("The moderation action."),
    "finding_status": Doc("The finding's status after the action (null: no finding)."),
    "reply_id": Doc("The reply's id on the platform (null: no reply).", "1029384756_99"),
    "sent_at": Doc("When the test event was sent."),
    # Retention and data subjects (issue 15).
    "findings_days": Doc("Days findings are kept.", 90),
    "audit_events_days": Doc("Days audit events are kept (at least 30).", 365),
    "inbox_events_days": Doc("Days received platform events are kept (at most 30).", 7),
    "webhook_deliveries_days": Doc("Days outbound webhook deliveries are kept.", 30),
    "scans_days": Doc("Days finished scans are kept.", 90),
    "overrides": Doc("What the client sets itself; null inherits the tenant's period."),
    "effective": Doc("What applies to the client's records."),
    "anchor_seq": Doc(
        "Where the retained chain starts: 0 until retention removed the oldest events, then "
        "the last removed event's seq.",
        0,
    ),
    "author_ref": Doc(
        "A keyed hash of the author's id: the request never shows the id again.",
        "hm1:Zp3q9c0aVx2yT4k8",
    ),
    "delete_on_platform": Doc(
        "Also delete the author's comments on the page (not just hide them)."
    ),
    "counts": Doc(
        "Per kind, once completed: how many records were erased (and platform deletions).",
        {"findings": 3, "inbox_events": 5, "moderation_actions": 2, "tombstones": 1},
        {
            "propertyNames": {
                "enum": [
                    "findings",
                    "inbox_events",
                    "moderation_actions",
                    "tombstones",
                    "platform_comments_deleted",
                    "platform_delete_failed",
                ]
            }
        },
        component="ErasureRequestCounts",
    ),
    "ErasureCounts.findings": Doc("Findings erased.", 3),
    "ErasureCounts.inbox_events": Doc("Platform events erased.", 5),
    "ErasureCounts.moderation_actions": Doc("Hides and replies recorded, erased.", 2),
    "tombstones": Doc(
        "Tombstones laid (keyed hashes of the author and each comment, kept so that nothing "
        "new is collected).",
        4,
    ),
    "platform_comments_deleted": Doc(
        "Comments deleted on the platform (null unless `delete_on_platform`).", 3
    ),
    "platform_delete_failed": Doc(
        "Comments the platform refused to delete (null unless `delete_on_platform`).", 0
    ),
    "erasure_request_id": Doc("The erasure request."),
    "requested_at": Doc("When the erasure was requested."),
    "SubjectData.findings": Doc("The author's findings, masked (at most 500: see `truncated`)."),
    "path.request_id": Doc("The erasure request's id."),
    "erased": Doc("An erasure request was made: nothing new is collected about the author."),
    "truncated": Doc("More findings exist than listed (the first 500 are)."),
    "inbox_events": Doc("Platform events from the author still held.", 2),
    "moderation_actions": Doc("Hides and replies recorded on the author's comments.", 2),
    "erasure_requests": Doc("Erasure requests made for the author."),
    "confirm": Doc(
        "Your tenant's id, typed out: deleting everything takes more than one click.",
        "0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70",
    ),
    "TenantDeletion.status": Doc(
        "`deleting`: the data is being removed in the background.",
        "deleting",
        {"enum": ["deleting"]},
    ),
    "api_keys_revoked": Doc("API keys revoked.", 3),
    "pages_unsubscribed": Doc("Pages unsubscribed from the app.", 4),
    "tokens_forgotten": Doc("Platform tokens deleted.", 4),
    # Service hours and response times (issue 12).
    "weekly": Doc("Opening hours per weekday."),
    "hours": Doc("The service hours that apply."),
    "total": Doc("All the connections together."),
    "links": Doc("Where to read more detail."),
    "response_times": Doc("First-response times.", "/v1/response-times"),
    "storms": Doc("Bursts of comments.", "/v1/storms"),
    "unanswered": Doc("Comments still waiting for a reply.", "/v1/unanswered"),
    "StatsLinks.response_times": Doc(
        "First-response times for the same range.",
        "/v1/response-times",
        {"format": "uri-reference"},
    ),
    "StatsLinks.storms": Doc(
        "Storms in the same range.", "/v1/storms", {"format": "uri-reference"}
    ),
    "StatsLinks.unanswered": Doc(
        "Comments still waiting.", "/v1/unanswered", {"format": "uri-reference"}
    ),
    "unanswered_url": Doc(
        "The comments still waiting, oldest first.",
        "/v1/unanswered?client_id=0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70",
        {"format": "uri-reference"},
    ),
    "comments": Doc("Comments.", 120),
    "StormPostData.comments": Doc(
        "Customer comments on it in the storm (over its last 15 minutes while it lasts).", 85
    ),
    "tracked_comment_id": Doc(
        "Wallguard's id of the tracked comment (an item of `GET /v1/unanswered`)."
    ),
    "commented_at": Doc("When the comment was written."),
    "promise_minutes": Doc("The promised first response, in service-hour minutes.", 60),
    "deadline_at": Doc("The last instant a first reply kept the promise."),
    "first_reply_at": Doc(
        "When the page first replied (null: still unanswered; after the deadline: late)."
    ),
    "noticed_at": Doc("When Wallguard noticed the broken promise."),
    "storm_id": Doc("The storm."),
    "path.storm_id": Doc("The storm's id."),
    "detected_at": Doc("When Wallguard detected the storm."),
    "ended_at": Doc("When the storm ended (null: still going)."),
    "baseline_per_minute": Doc(
        "The page's usual customer comments per minute for this time of the week.", 0.4
    ),
    "rate_per_minute": Doc("Customer comments per minute over the last 5 minutes.", 12.5),
    "peak_per_minute": Doc("The highest rate seen in the storm.", 18.0),
    "posts": Doc("The posts the storm is on, busiest first."),
    # Problems.
    "title": Doc("A short summary of the problem type.", "Not found"),
    "detail": Doc("What went wrong here, in words.", "Client 0193c4e2 not found."),
    "instance": Doc("The path of the request.", "/v1/clients/0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70"),
    "request_id": Doc("The request's `X-Request-ID`.", "4f2a9c1e0b7d4e8f9a6b3c2d1e0f9a8b"),
    "errors": Doc("The invalid fields, each with a JSON path and a message."),
    "field": Doc("The invalid field as a JSON path, or `query.<name>` for parameters.", "$.name"),
    "message": Doc("What is wrong with it.", "Expected `str` of length >= 1"),
}


# Webhook bodies (``<Name>Event``) share their envelope: ``type``, ``timestamp``, ``data``.
_ENVELOPE = {
    "type": Doc("The event's name."),
    "timestamp": Doc("When the event happened.", None, {"format": "date-time"}),
    "data": Doc("What the event is about."),
}
# Times: the webhook bodies' schemas come from msgspec with ISO strings, so say what they are.
_TIMES = {"since", "until", "timestamp"}


def describe_property(schema: str, name: str, prop: dict[str, Any]) -> Doc:
    """The glossary's entry for ``schema.name`` (``name`` empty: the schema itself)."""
    if not name:
        return Doc(SCHEMAS.get(schema, ""))
    if schema.endswith("Event") and name in _ENVELOPE:
        return _ENVELOPE[name]
    doc = FIELDS.get(f"{schema}.{name}") or FIELDS.get(name) or _UNKNOWN
    if (name.endswith("_at") or name in _TIMES) and "format" not in doc.extra:
        doc = Doc(doc.description, doc.example, {**doc.extra, "format": "date-time"}, doc.component)
    return doc
