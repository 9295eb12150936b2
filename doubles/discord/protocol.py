"""Discord's numbers as the double uses them: addresses, fixed ids, permission bits, intents, flags,
and the interaction, callback, message and channel types."""

from __future__ import annotations

HOST = "127.0.0.1"
API_VERSION = 10
API_PREFIX = f"/api/v{API_VERSION}"
CONTROL_PREFIX = "/_double"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Fixed ids so a test in another process knows them without asking.
DEFAULT_GUILD_ID = 900_000_000_000_000_001
DEFAULT_CHANNEL_IDS = (900_000_000_000_000_011, 900_000_000_000_000_012)
DEFAULT_BOT_ID = 900_000_000_000_000_100
DEFAULT_OWNER_ID = 900_000_000_000_000_200
DEFAULT_USER_ID = 900_000_000_000_000_300


class Perm:
    """Discord permission bits the double and the tests care about."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


DEFAULT_MEMBER_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_INSTANT_INVITE
)
"""What an ordinary member may do: no Manage Channels."""

MANAGER_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS | Perm.MANAGE_CHANNELS
"""A member who may change a channel's subscriptions and digests."""

DEFAULT_BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
)
"""What the bot may do in a channel unless a test takes it away."""

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message_content

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15

# Interaction and callback types.
IT_PING, IT_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_PONG, CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL = (
    1, 4, 5, 6, 7, 8, 9,
)

# Message types.
MT_DEFAULT, MT_THREAD_CREATED, MT_CHAT_INPUT_COMMAND = 0, 18, 20

# Channel types.
CT_TEXT, CT_CATEGORY, CT_NEWS, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD = 0, 4, 5, 11, 12
CT_DM = 1
THREAD_TYPES = (10, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD)

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

