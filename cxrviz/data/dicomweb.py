"""A PACS as an image source, over DICOMweb (QIDO-RS search, WADO-RS retrieval, STOW-RS storage).

`CXRVIZ_DICOMWEB` names the PACS's DICOMweb base URL; credentials (basic auth or a bearer token)
come from the app's secrets or the CLI's options, never from the URL. X-rays are searched at the
instance level with `Modality=CR,DX` (MONAI Label's default filter is CT and misses them), one
page at a time: nothing here lists a whole PACS. An instance is retrieved in its own transfer
syntax (`transfer-syntax=*`) and decoded by the upload path (`data.uploads.decode_dicom`:
MONOCHROME1, VOI LUT, 16-bit, size limits), so a PACS image and an uploaded file look the same.
Thumbnails are cached on disk by SOP Instance UID. Every failure a user can meet (unreachable,
slow, 401/403, no image, a transfer syntax this server cannot decode) is a `PacsError` with a
sentence for the page.

No Streamlit here: the app passes its secrets in (`Credentials.from_mapping`).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

from cxrviz.data.uploads import DecodedUpload, decode_dicom
from cxrviz.errors import CxrvizError, UploadError

log = logging.getLogger(__name__)

XRAY_MODALITIES = ("CR", "DX")
PAGE_SIZE = 12
MAX_AGE = 120
UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")
THUMB_SIZE = 192

# Attributes asked for in a search (keyword -> tag); QIDO returns the study's and instance's keys anyway.
FIELDS = {
    "StudyInstanceUID": "0020000D", "SeriesInstanceUID": "0020000E", "SOPInstanceUID": "00080018",
    "Modality": "00080060", "PatientID": "00100020", "PatientAge": "00101010", "PatientSex": "00100040",
    "ViewPosition": "00185101", "StudyDate": "00080020", "StudyDescription": "00081030", "Rows": "00280010",
    "Columns": "00280011", "PixelSpacing": "00280030", "ImagerPixelSpacing": "00181164",
}


class PacsError(CxrvizError):
    """The PACS could not answer what was asked; the message says why, for the page."""

    # True: the PACS itself failed (down, slow, credentials), not this one image: a batch run stops
    # there (what it finished is kept, a rerun resumes) instead of writing every image as an error.
    ends_batch = False


class PacsUnreachableError(PacsError):
    """No connection to the PACS (down, wrong address, refused)."""

    ends_batch = True


class PacsTimeoutError(PacsError):
    """The PACS did not answer within CXRVIZ_DICOMWEB_TIMEOUT."""

    ends_batch = True


class PacsAuthError(PacsError):
    """The PACS refused the credentials (401) or this user (403)."""

    ends_batch = True


class PacsNotFoundError(PacsError):
    """The PACS has no such instance, or the instance holds no image."""


class PacsUnsupportedError(PacsError):
    """The instance is in a transfer syntax this server cannot decode."""


def is_sop_uid(name: str | None) -> bool:
    """A DICOM UID (digits and dots, at most 64 characters): how a PACS image is keyed, where an
    NIH image is keyed by its file name."""
    return bool(name) and len(name) <= 64 and UID.match(name) is not None


@dataclass(frozen=True)
class Credentials:
    """Basic auth (username + password) or a bearer token; from `.streamlit/secrets.toml`'s
    `[dicomweb]` table in the app, from options in the CLI."""

    username: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping | None) -> Credentials:
        values = values or {}

        def text(key: str) -> str | None:
            value = values.get(key)
            return str(value) if value not in (None, "") else None

        return cls(text("username"), text("password"), text("token"))

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(username={self.username!r}, password={'***' if self.password else None}, " \
               f"token={'***' if self.token else None})"


@dataclass(frozen=True)
class PacsQuery:
    """The Browse filters, as QIDO-RS matching keys (all matched by the PACS, so paging is exact)."""

    sexes: tuple[str, ...] = ()  # M, F, O
    views: tuple[str, ...] = ()  # PA, AP, LL, …
    age_range: tuple[int, int] | None = None  # years, inclusive
    date_range: tuple[str, str] | None = None  # YYYYMMDD, inclusive
    patient_id: str | None = None

    def filters(self) -> dict[str, str]:
        """QIDO query parameters: lists comma-separated (PS3.18 8.3.4.1), dates as a range."""
        params = {"Modality": ",".join(XRAY_MODALITIES)}
        if self.sexes:
            params["PatientSex"] = ",".join(self.sexes)
        if self.views:
            params["ViewPosition"] = ",".join(self.views)
        if self.age_range is not None:
            low, high = sorted(self.age_range)
            low, high = max(0, int(low)), min(MAX_AGE, int(high))
            if (low, high) != (0, MAX_AGE):  # PatientAge is a string (058Y): the range is the list of its values
                params["PatientAge"] = ",".join(f"{age:03d}Y" for age in range(low, high + 1))
        if self.date_range is not None:
            start, end = (d.replace("-", "") for d in self.date_range)
            params["StudyDate"] = f"{start}-{end}"
        if self.patient_id:
            params["PatientID"] = self.patient_id
        return params


@dataclass(frozen=True)
class PacsInstance:
    """One X-ray as the PACS lists it."""

    sop_uid: str
    study_uid: str
    series_uid: str
    modality: str
    patient_id: str
    age: int | None
    sex: str
    view: str
    study_date: str  # YYYY-MM-DD, or "" when the PACS has none
    description: str = ""
    spacing_mm: tuple[float, float] | None = None  # (row, column) mm per pixel of the file: PixelSpacing, else ImagerPixelSpacing
    size: tuple[int, int] | None = None  # (Rows, Columns) of the file
    spacing_keyword: str = ""  # which attribute `spacing_mm` came from: PixelSpacing or ImagerPixelSpacing

    def describe(self) -> str:
        age = f"{self.age} y" if self.age is not None else "age unknown"
        return " · ".join(v for v in (self.modality, self.view or "view unknown", age, self.sex or "sex unknown",
                                      self.study_date or "no study date", f"patient {self.patient_id}") if v)

    def row(self) -> dict:
        return {"SOP Instance UID": self.sop_uid, "Modality": self.modality, "Patient": self.patient_id,
                "Age": self.age, "Sex": self.sex, "View": self.view, "Study date": self.study_date,
                "Description": self.description}


@dataclass(frozen=True)
class PacsPage:
    instances: list[PacsInstance]
    page: int  # from 1
    page_size: int
    has_next: bool

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1


def _value(item: Mapping, keyword: str) -> str:
    element = item.get(FIELDS[keyword], {})
    values = element.get("Value") or []
    if not values:
        return ""
    value = values[0]
    if isinstance(value, dict):  # a person name
        return str(value.get("Alphabetic", ""))
    return str(value)


def parse_age(value: str) -> int | None:
    """DICOM AS (058Y, 006M, 003W, 010D) in whole years; None when unusable."""
    match = re.fullmatch(r"(\d{3})([DWMY])", value.strip().upper())
    if not match:
        return None
    number, unit = int(match.group(1)), match.group(2)
    return {"Y": number, "M": number // 12, "W": number // 52, "D": number // 365}[unit]


def _spacing(item: Mapping) -> tuple[float, float] | None:
    found = _spacing_of(item)
    return found[1] if found else None


def _spacing_keyword(item: Mapping) -> str:
    found = _spacing_of(item)
    return found[0] if found else ""


def _spacing_of(item: Mapping) -> tuple[str, tuple[float, float]] | None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        values = item.get(FIELDS[keyword], {}).get("Value") or []
        try:
            pair = (float(values[0]), float(values[1]))
        except (IndexError, TypeError, ValueError):
            continue
        if all(0 < v < 10 for v in pair):
            return keyword, pair
    return None


def _size(item: Mapping) -> tuple[int, int] | None:
    try:
        return int(_value(item, "Rows")), int(_value(item, "Columns"))
    except ValueError:
        return None


def instance_from_json(item: Mapping) -> PacsInstance:
    date = _value(item, "StudyDate")
    return PacsInstance(
        sop_uid=_value(item, "SOPInstanceUID"), study_uid=_value(item, "StudyInstanceUID"),
        series_uid=_value(item, "SeriesInstanceUID"), modality=_value(item, "Modality"),
        patient_id=_value(item, "PatientID"), age=parse_age(_value(item, "PatientAge")),
        sex=_value(item, "PatientSex"), view=_value(item, "ViewPosition"),
        study_date=f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 and date.isdigit() else "",
        description=_value(item, "StudyDescription"), spacing_mm=_spacing(item), size=_size(item),
        spacing_keyword=_spacing_keyword(item),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Pacs:
    """One PACS: its DICOMweb client, with the failures translated into `PacsError` sentences."""

    def __init__(self, url: str, credentials: Credentials | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        from dicomweb_client.api import DICOMwebClient

        self.url, self.timeout = url.rstrip("/"), timeout
        credentials = credentials or Credentials()
        session = session or requests.Session()
        if credentials.token:
            session.headers["Authorization"] = f"Bearer {credentials.token}"
        elif credentials.username:
            session.auth = (credentials.username, credentials.password or "")
        self.authenticated = bool(credentials.token or credentials.username)
        self.client = DICOMwebClient(self.url, session=session, timeout=timeout)
        self.client.set_http_retry_params(retry=False)  # a slow or failing PACS is said once, not retried for minutes

    # -------------------------------------------------------------- failures
    def _failure(self, exc: Exception, doing: str) -> PacsError:
        where = self.url
        if isinstance(exc, requests.Timeout):
            return PacsTimeoutError(f"The PACS at {where} did not answer within {self.timeout:g} s while {doing}; it may be "
                                    "busy. Try again, or raise CXRVIZ_DICOMWEB_TIMEOUT.")
        if isinstance(exc, requests.ConnectionError):
            return PacsUnreachableError(f"The PACS at {where} cannot be reached ({doing}): check CXRVIZ_DICOMWEB and that "
                                        "the PACS is running. The rest of cxrviz keeps working.")
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            code = exc.response.status_code
            if code == 401:
                told = "the user name and password (or token)" if self.authenticated else "no credentials"
                return PacsAuthError(f"The PACS at {where} refused {told} while {doing} (401 Unauthorized): set "
                                     "[dicomweb] username and password, or token, in .streamlit/secrets.toml.")
            if code == 403:
                return PacsAuthError(f"The PACS at {where} does not let this user do that ({doing}: 403 Forbidden); "
                                     "ask its administrator for access.")
            if code == 404:
                return PacsNotFoundError(f"The PACS at {where} has no such object ({doing}: 404 Not Found).")
            if code == 406:
                return PacsUnsupportedError(f"The PACS at {where} cannot send the object in a form cxrviz accepts "
                                            f"({doing}: 406 Not Acceptable).")
            return PacsError(f"The PACS at {where} answered {code} {exc.response.reason} while {doing}.")
        if isinstance(exc, requests.RequestException):
            return PacsUnreachableError(f"The PACS at {where} could not be asked ({doing}): {exc}")
        return PacsError(f"The PACS at {where} sent an answer cxrviz cannot read while {doing}: {exc}")

    def _call(self, doing: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise self._failure(exc, doing) from exc

    # -------------------------------------------------------------- QIDO
    def search(self, query: PacsQuery = PacsQuery(), page: int = 1, page_size: int = PAGE_SIZE) -> PacsPage:
        """One page of X-ray instances matching `query` (asks for one more to know if a next page exists)."""
        page, page_size = max(1, int(page)), max(1, int(page_size))
        found = self._call(
            "searching for X-rays", self.client.search_for_instances, limit=page_size + 1,
            offset=(page - 1) * page_size, fields=list(FIELDS), search_filters=query.filters(),
        )
        instances = [instance_from_json(item) for item in found]
        instances = [i for i in instances if i.sop_uid and i.modality in XRAY_MODALITIES]
        return PacsPage(instances[:page_size], page, page_size, len(instances) > page_size)

    def locate(self, sop_uid: str) -> PacsInstance:
        """The study and series of one instance (WADO-RS needs them), found by its SOP Instance UID."""
        if not is_sop_uid(sop_uid):
            raise PacsNotFoundError(f"{sop_uid!r} is not a SOP Instance UID (digits and dots, at most 64 characters).")
        found = self._call("looking up the image", self.client.search_for_instances, fields=list(FIELDS),
                           search_filters={"SOPInstanceUID": sop_uid}, limit=2)
        if not found:
            raise PacsNotFoundError(f"The PACS at {self.url} has no instance {sop_uid}; it may have been deleted or moved.")
        return instance_from_json(found[0])

    def find_sr(self, study_uid: str | None = None) -> list[dict]:
        """Structured reports (Modality SR) held by the PACS, optionally of one study."""
        filters = {"Modality": "SR"} | ({"StudyInstanceUID": study_uid} if study_uid else {})
        return self._call("searching for reports", self.client.search_for_instances, search_filters=filters, limit=100)

    # -------------------------------------------------------------- WADO
    def retrieve_bytes(self, instance: PacsInstance) -> bytes:
        """The instance as a DICOM file in the transfer syntax the PACS holds it in."""
        dataset = self._call("retrieving the image", self.client.retrieve_instance, instance.study_uid,
                             instance.series_uid, instance.sop_uid, media_types=(("application/dicom", "*"),))
        buffer = io.BytesIO()
        try:
            dataset.save_as(buffer, enforce_file_format=True)
        except (ValueError, AttributeError, TypeError) as exc:
            raise PacsError(f"The PACS at {self.url} sent instance {instance.sop_uid} without a usable DICOM header: {exc}") from exc
        return buffer.getvalue()

    def instance_header(self, sop_uid: str):
        """The instance's DICOM attributes without its pixels (WADO-RS metadata), as a pydicom
        Dataset: what a report's SR needs to reference the image where the PACS holds it."""
        from pydicom import Dataset

        instance = self.locate(sop_uid)
        found = self._call("reading the image's attributes", self.client.retrieve_instance_metadata, instance.study_uid,
                           instance.series_uid, instance.sop_uid)
        try:
            header = Dataset.from_json(found, bulk_data_uri_handler=lambda *args: b"")
        except (ValueError, TypeError, KeyError) as exc:
            raise PacsError(f"The PACS at {self.url} sent attributes of {sop_uid} that cxrviz cannot read: {exc}") from exc
        if "PixelData" in header:
            del header.PixelData
        for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "Rows", "Columns"):
            if keyword not in header:
                raise PacsError(f"The PACS at {self.url} sent attributes of {sop_uid} without {keyword}; a report cannot "
                                "reference it.")
        return header

    def open_image(self, sop_uid: str) -> tuple[PacsInstance, DecodedUpload]:
        """One instance found, retrieved and decoded (what the Image and Review pages show)."""
        instance = self.locate(sop_uid)
        return instance, decode_instance(self.retrieve_bytes(instance), instance)

    # -------------------------------------------------------------- STOW
    def stow(self, datasets: Sequence) -> list[StowResult]:
        return stow(self, datasets)


def decode_instance(data: bytes, instance: PacsInstance) -> DecodedUpload:
    """Decode with the upload path; an image this server cannot decode is said as such."""
    name = f"PACS instance {instance.sop_uid}"
    syntax = _transfer_syntax(data)
    if syntax and not _can_decode(syntax):
        raise PacsUnsupportedError(f"{name} is stored as {_syntax_name(syntax)} ({syntax}), which this server has no "
                                   "decoder for; open it in the PACS viewer, or ask for it to be stored uncompressed.")
    try:
        decoded = decode_dicom(data, name)
    except UploadError as exc:
        if "without pixel data" in str(exc):
            raise PacsNotFoundError(f"{name} holds no image (a report or another non-image object).") from exc
        raise
    return decoded


def _transfer_syntax(data: bytes) -> str | None:
    import pydicom

    try:
        return str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).file_meta.TransferSyntaxUID)
    except Exception:  # noqa: BLE001 — decode_dicom says what is wrong with an unreadable file
        return None


def _can_decode(syntax: str) -> bool:
    from pydicom.pixels import get_decoder

    try:
        return get_decoder(syntax).is_available
    except (NotImplementedError, ValueError, KeyError):
        return False


def _syntax_name(syntax: str) -> str:
    from pydicom.uid import UID as PydicomUID

    return PydicomUID(syntax).name


# ------------------------------------------------------------------ thumbnails

def thumbnail_path(cache_dir: Path, sop_uid: str, size: int = THUMB_SIZE) -> Path:
    """Where an instance's thumbnail lives: one file per SOP Instance UID (an instance never changes)."""
    if not is_sop_uid(sop_uid):
        raise PacsNotFoundError(f"{sop_uid!r} is not a SOP Instance UID.")
    return cache_dir / "pacs-thumbs" / f"{sop_uid}-{size}.jpg"


def thumbnail(pacs: Pacs, cache_dir: Path, instance: PacsInstance, size: int = THUMB_SIZE) -> Path:
    """A JPEG thumbnail of `instance`: retrieved and decoded once, then read from the cache folder."""
    from cxrviz.data.imaging import write_thumbnail

    target = thumbnail_path(cache_dir, instance.sop_uid, size)
    if target.exists():
        return target
    return write_thumbnail(decode_instance(pacs.retrieve_bytes(instance), instance).gray, target, size)


# ------------------------------------------------------------------ STOW-RS

STORED, ALREADY_THERE, REFUSED = "stored", "already there", "refused"

# PS3.4 C.4.2.1.4 / PS3.18 Table 10.5.3-1: the Failure Reason a STOW-RS response gives.
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0111: "duplicate SOP instance",
    0x0117: "invalid object instance",
    0x0119: "no such SOP class",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA770: "out of resources (storage full)",
    0xA900: "data set does not match the SOP class",
    0xC000: "cannot understand",
    0xC122: "referenced transfer syntax not supported",
    0xC409: "the instance does not belong to this study",
}


@dataclass(frozen=True)
class StowResult:
    sop_uid: str
    outcome: str  # stored | already there | refused
    reason: str = ""

    def describe(self) -> str:
        return f"{self.sop_uid}: {self.outcome}" + (f" ({self.reason})" if self.reason else "")


def _reason(item) -> str:
    code = item.get("FailureReason")
    if code is None:
        return "no reason given"
    code = int(code)
    return f"{FAILURE_REASONS.get(code, 'failure')} (0x{code:04X})"


def parse_stow_response(response, sent: Sequence[str]) -> list[StowResult]:
    """A STOW-RS response (a pydicom Dataset) as one result per SOP Instance UID sent, in order.
    Referenced SOPs are stored, failed ones refused with their reason (0x0111, a duplicate, is
    "already there"); one the response does not name is refused with "the PACS did not say"."""
    results: dict[str, StowResult] = {}
    for item in getattr(response, "ReferencedSOPSequence", None) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        warning = item.get("WarningReason")
        results[uid] = StowResult(uid, STORED, f"warning 0x{int(warning):04X}" if warning is not None else "")
    for item in getattr(response, "FailedSOPSequence", None) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        code = item.get("FailureReason")
        outcome = ALREADY_THERE if code is not None and int(code) == 0x0111 else REFUSED
        results[uid] = StowResult(uid, outcome, _reason(item))
    return [results.get(uid, StowResult(uid, REFUSED, "the PACS's answer does not mention it")) for uid in sent]


def stow(pacs: Pacs, datasets: Sequence) -> list[StowResult]:
    """Store `datasets` (pydicom Datasets: an SR, a Secondary Capture) in the PACS; one result each.

    What the PACS already holds (same SOP Instance UID, asked with QIDO first) is not sent again
    and is "already there"; the others are sent together and their outcome read from the STOW
    response, refusals with the PACS's reason. A PACS may answer "stored" for an instance a rule
    of its own then drops (Orthanc's DICOMweb plugin does, for a Lua filter), so each "stored" is
    checked with QIDO afterwards, and one the PACS does not hold is "refused". A PACS that cannot
    be asked raises `PacsError`."""
    uids = [str(ds.SOPInstanceUID) for ds in datasets]
    present = {uid for uid in dict.fromkeys(uids) if _holds(pacs, uid)}
    todo = [ds for ds in datasets if str(ds.SOPInstanceUID) not in present]
    results = {uid: StowResult(uid, ALREADY_THERE, "the PACS holds this SOP Instance UID") for uid in present}
    if todo:
        sent = [str(ds.SOPInstanceUID) for ds in todo]
        try:
            response = pacs.client.store_instances(todo)
        except requests.HTTPError as exc:
            response = _failure_body(exc)
            if response is None:  # no STOW body: the whole request failed (401, 403, 413, 5xx)
                raise pacs._failure(exc, "storing results") from exc
        except (requests.RequestException, ValueError) as exc:
            raise pacs._failure(exc, "storing results") from exc
        for result in parse_stow_response(response, sent):
            if result.outcome == STORED and not _holds(pacs, result.sop_uid):
                result = StowResult(result.sop_uid, REFUSED, "the PACS answered 'stored' but does not hold it: a rule "
                                                             "on the PACS dropped it (ask its administrator)")
            results[result.sop_uid] = result
    log.info("STOW to %s: %s", pacs.url, describe_results(list(results.values())))
    return [results[uid] for uid in uids]


def _holds(pacs: Pacs, sop_uid: str) -> bool:
    return bool(pacs._call("checking what the PACS holds", pacs.client.search_for_instances,
                           search_filters={"SOPInstanceUID": sop_uid}, limit=1))


def _failure_body(exc: requests.HTTPError):
    """The STOW-RS response a 4xx/409 carries (which instances failed, and why), or None."""
    import pydicom

    response = exc.response
    if response is None or response.status_code in (401, 403) or not response.content:
        return None
    try:
        return pydicom.Dataset.from_json(response.json())
    except ValueError:
        return None


def read_dicom_files(paths: Iterable[Path]) -> list:
    """DICOM files for `export --stow`, read whole; an unreadable one is a `CxrvizError` naming it."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    datasets = []
    for path in paths:
        try:
            datasets.append(pydicom.dcmread(path))
        except (InvalidDicomError, OSError, ValueError) as exc:
            raise CxrvizError(f"{path} is not a DICOM file that can be stored: {exc}") from exc
    return datasets


@dataclass(frozen=True)
class PacsLoader:
    """Picklable image loader for batch prediction (DataLoader workers, Ray tasks): `ref` is
    "study/series/sop"; each process opens its own connection to the PACS."""

    url: str
    credentials: Credentials
    timeout: float

    def __call__(self, ref) -> np.ndarray:
        import os

        key = (os.getpid(), self)
        pacs = _LOADER_CLIENTS.get(key)
        if pacs is None:
            pacs = _LOADER_CLIENTS[key] = Pacs(self.url, self.credentials, self.timeout)
        study, series, sop = str(ref).split("/")
        instance = PacsInstance(sop, study, series, "", "", None, "", "", "")
        return decode_instance(pacs.retrieve_bytes(instance), instance).gray


_LOADER_CLIENTS: dict[tuple, Pacs] = {}


@dataclass
class PacsSource:
    """A PACS query as a list of images for batch prediction: names (SOP Instance UIDs) and a
    decoder for each, fetched one at a time as the batch asks for them."""

    pacs: Pacs
    instances: list[PacsInstance] = field(default_factory=list)

    @classmethod
    def query(cls, pacs: Pacs, query: PacsQuery = PacsQuery(), page_size: int = 500) -> PacsSource:
        """Every instance matching `query`, paged through (the CLI's explicit request, not Browse)."""
        found, page = [], 1
        while True:
            result = pacs.search(query, page, page_size)
            found += result.instances
            if not result.has_next:
                return cls(pacs, found)
            page += 1

    @property
    def names(self) -> list[str]:
        return [i.sop_uid for i in self.instances]

    @property
    def refs(self) -> list[str]:
        """What `PacsLoader` reads each instance by."""
        return [f"{i.study_uid}/{i.series_uid}/{i.sop_uid}" for i in self.instances]

    def loader(self, credentials: Credentials) -> PacsLoader:
        return PacsLoader(self.pacs.url, credentials, self.pacs.timeout)


def describe_results(results: Sequence[StowResult]) -> str:
    counts = {o: sum(r.outcome == o for r in results) for o in (STORED, ALREADY_THERE, REFUSED)}
    return ", ".join(f"{_plural(n, 'object')} {o}" for o, n in counts.items() if n) or "nothing to store"
