"""The dashboard's tables, in SQLAlchemy 2.0 style.

Rooms keep their live ``occupancy`` as a column changed only by single atomic SQL statements
(see ``occupancy.py``); every event a station sends is recorded once (``ingested_events`` holds
its station and id under a unique key) and also kept in its own table. ``live_events`` is the
outbox the live stream polls, so any process can serve any browser.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.db import Base, BigId, UTCDateTime, utc_now
from station.rooms import RoomState as RoomState  # the shared room rules' traffic light, re-exported
from station.rooms import limit_from_ppm, share_text


class Role(StrEnum):
    """What a user may do; each role may do everything the ones before it may."""

    GUARD = "guard"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """The role's place in the order guard < supervisor < admin."""
        return list(Role).index(self)


class AlertKind(StrEnum):
    """Why a supervisor is alerted."""

    FEVER = "fever"
    FEVER_RETEST = "fever_retest"
    NO_MASK = "no_mask"
    OVER_LIMIT = "over_limit"
    STATION_SILENT = "station_silent"
    EVENTS_SET_ASIDE = "events_set_aside"


class TicketStatus(StrEnum):
    """Where a queue ticket stands."""

    ISSUED = "issued"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Site(Base):
    """An office (one building) with its rooms."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Where the site is, as people write it (street, city); may be empty.
    address: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
    #: The site's clock (IANA name): Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT).
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Asia/Jakarta", server_default="Asia/Jakarta", nullable=False
    )
    rooms: Mapped[list[Room]] = relationship(back_populates="site", order_by="Room.slug")


class Room(Base):
    """A room with its capacity, the share allowed in, and its live count.

    A room's slug is unique within its site only: two sites may each have a ``hall`` (see
    ``naming.py`` for how a room is named where more than one site has it).
    """

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("site_id", "slug", name="uq_rooms_site_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    capacity_people: Mapped[int] = mapped_column(Integer)
    #: The share allowed in, in millionths (exact: 0.3335 is 333500); see ``station.rooms``.
    share_ppm: Mapped[int] = mapped_column(Integer, default=500_000)
    occupancy_people: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether an over-limit alert is out for the count now above the limit (one per excursion).
    over_limit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    site: Mapped[Site] = relationship(back_populates="rooms")
    stations: Mapped[list[Station]] = relationship(back_populates="room", order_by="Station.name")

    @property
    def share(self) -> str:
        """The share of the capacity allowed in, as its shortest decimal (``"0.5"`` by default)."""
        return share_text(self.share_ppm)

    @property
    def limit_people(self) -> int:
        """How many may be inside: floor(capacity x share), by the shared room rules."""
        return limit_from_ppm(self.capacity_people, self.share_ppm)


class Station(Base):
    """A screening station at a door of a room; it authenticates with a token whose hash is kept.

    A revoked station (``revoked_at`` set) is refused; rotating its token gives it a new one and
    lets it in again.
    """

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    room: Mapped[Room] = relationship(back_populates="stations")
    doors: Mapped[list[Door]] = relationship(back_populates="station", order_by="Door.name")


class Door(Base):
    """A door (or counting line) a station watches, named by the station."""

    __tablename__ = "doors"
    __table_args__ = (UniqueConstraint("station_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    name: Mapped[str] = mapped_column(String(100))
    station: Mapped[Station] = relationship(back_populates="doors")


#: The sites each guard and supervisor works at: they see those sites' rooms, stations, screenings
#: and alerts, and no others (admins see every site, whatever is here).
user_sites = Table(
    "user_sites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who logs in: a guard, a supervisor or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.GUARD.value)
    locale: Mapped[str] = mapped_column(String(8), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: Bumped to end every session of the user (logout, disabling): a cookie carries the value it
    #: was issued with, and one with an older value no longer logs anyone in.
    session_gen: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    sites: Mapped[list[Site]] = relationship(secondary=user_sites, order_by="Site.slug")
    #: Whether open pages beep for a fever or an over-limit alert (the notice is shown either way).
    alert_sound: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true(), nullable=False)

    # flask-login's user protocol
    @property
    def is_authenticated(self) -> bool:
        """Always true for a loaded user."""
        return True

    @property
    def is_active(self) -> bool:
        """Whether the user may log in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """What flask-login keeps in the session: the id and the session generation (``12.3``)."""
        return f"{self.id}.{self.session_gen}"

    def has_role(self, needed: Role) -> bool:
        """Whether this user's role is ``needed`` or above it."""
        return Role(self.role).rank >= needed.rank


#: Names are unique ignoring case (``ADM`` beside ``adm`` would be two people to a guard reading a log).
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class IngestedEvent(Base):
    """Every event ever accepted, keyed on (station, event id): the key that makes ingest idempotent.

    A station makes its ids unique among its own events only, so the same id from two stations is two
    events.
    """

    __tablename__ = "ingested_events"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Crossing(Base):
    """A person crossed a door; ``counted`` is false for an exit that found the room at zero."""

    __tablename__ = "crossings"
    __table_args__ = (
        Index("ix_crossings_room_at", "room_id", "at"),
        UniqueConstraint("station_id", "event_id", name="uq_crossings_station_event"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    door_id: Mapped[int] = mapped_column(ForeignKey("doors.id"))
    direction: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    counted: Mapped[bool] = mapped_column(Boolean)
    occupancy_after: Mapped[int] = mapped_column(Integer)
    door: Mapped[Door] = relationship()


class Screening(Base):
    """A visitor's screening: temperatures, mask, decision and policy. No image is ever stored."""

    __tablename__ = "screenings"
    __table_args__ = (
        Index("ix_screenings_at", "at"),
        UniqueConstraint("station_id", "event_id", name="uq_screenings_station_event"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    raw_c: Mapped[float | None] = mapped_column(Float)
    body_c: Mapped[float | None] = mapped_column(Float)
    mask: Mapped[str | None] = mapped_column(String(16))
    temperature_policy: Mapped[str] = mapped_column(String(8))
    mask_policy: Mapped[str] = mapped_column(String(8))
    retest: Mapped[bool] = mapped_column(Boolean)
    ticket: Mapped[int | None] = mapped_column(Integer)
    override_by: Mapped[str | None] = mapped_column(String(200))
    override_reason: Mapped[str | None] = mapped_column(Text)
    station: Mapped[Station] = relationship()
    room: Mapped[Room] = relationship()


class Correction(Base):
    """A guard's correction of a room's count, kept beside the counted figures."""

    __tablename__ = "corrections"
    __table_args__ = (
        Index("ix_corrections_room_at", "room_id", "at"),
        UniqueConstraint("station_id", "event_id", name="uq_corrections_station_event"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    #: The station it was made at; None for a supervisor's correction on the dashboard.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    delta: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[int | None] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    occupancy_after: Mapped[int] = mapped_column(Integer)
    station: Mapped[Station | None] = relationship()
    room: Mapped[Room] = relationship()


class StationStatus(Base):
    """A station's report on one of its parts (device health)."""

    __tablename__ = "station_statuses"
    __table_args__ = (UniqueConstraint("station_id", "event_id", name="uq_station_statuses_station_event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    device: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)


class QueueTicket(Base):
    """A queue ticket of a room and where it stands."""

    __tablename__ = "queue_tickets"
    __table_args__ = (Index("ix_queue_tickets_room_ticket", "room_id", "ticket"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    ticket: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """Something a supervisor should see and acknowledge."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "acknowledged_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged_note: Mapped[str | None] = mapped_column(Text, default=None)
    room: Mapped[Room | None] = relationship()
    station: Mapped[Station | None] = relationship()


class AuditEntry(Base):
    """Who changed what, when (settings, users, acknowledgements, purges, logins)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: The room the entry is about (an override, a correction, a room's or a station's settings), so
    #: a supervisor sees only their sites' entries; none for users, logins and purges (admins only).
    room_id: Mapped[int | None] = mapped_column(Integer, default=None)


class LiveEvent(Base):
    """The outbox of the live stream: every process appends, every stream polls by ``id``."""

    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)


class LoginAttempt(Base):
    """A login attempt, for rate limiting per username and address across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_who", "username", "ip", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    success: Mapped[bool] = mapped_column(Boolean)
