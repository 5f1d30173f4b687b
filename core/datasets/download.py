"""Downloads from the internet, never from inside the network: the URL import's HTTP client.

Each hop of a download (the URL, then every redirect, followed here rather than by httpx) has its
host resolved once; every address it resolves to must be public (not loopback, private, link-local
such as the 169.254.169.254 metadata service, multicast, unspecified or reserved, IPv4 and IPv6,
IPv4 inside IPv6 included), and the connection then goes to that vetted address, with the Host
header and TLS server name of the original host, so DNS cannot change its answer between check and
connect. URL_ALLOW_PRIVATE or URL_ALLOWED_HOSTS open internal addresses for deployments that import
from their own network. The whole download, body included, has one deadline (URL_TIMEOUT_S).

The body is asked for uncompressed (Accept-Encoding: identity) and read raw; a server that compresses
anyway may use one layer of gzip or deflate, decoded here in bounded steps so the decoded bytes count
against MAX_UPLOAD_MB as they appear. Stacked or other encodings (zstd, br) are refused.
"""

from __future__ import annotations

import email.message
import ipaddress
import logging
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from core.config import get_settings
from core.errors import ConnectionFailed, IngestError, InvalidInput, TooLarge, UnsupportedFormat

log = logging.getLogger(__name__)

USER_AGENT = "workbench-importer/1.0"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = (301, 302, 303, 307, 308)
_DECODE_STEP = 64 * 1024  # most decoded bytes produced from one step of a compressed body
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """One hop: the URL as given, its host, port, and the vetted address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def check_url(url: str) -> str:
    """Return the URL stripped, or raise InvalidInput unless it is http(s) with a host."""
    url = (url or "").strip()
    parsed = urlsplit(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(f"{url or 'The URL'!r} is not an http(s) address.",
                           hint="Paste a link starting with https:// that downloads a data file.")
    return url


def refusal(address: IPAddress) -> str | None:
    """Why an address is internal ('loopback', 'private'...), or None when it is a public one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    for what, flag in (("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
                       ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                       ("reserved", address.is_reserved), ("private", address.is_private)):
        if flag:
            return what
    return None if address.is_global else "not public"


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(url: str) -> Target:
    """Parse a hop's URL, resolve its host and return it with a vetted address; raise InvalidInput if internal."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidInput(f"{url} redirected to an address that is not http(s).",
                           hint="Use a direct http(s) download link.")
    if "@" in parts.netloc:
        raise InvalidInput(f"{url} contains a user name before '@'; the host is what follows it.",
                           hint="Remove the 'name@' part; links with credentials are not followed.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidInput(f"{url!r} has no host name.", hint="Paste a full link such as https://host/file.csv.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidInput(f"{url} has an invalid port.", hint="Check the address.") from exc
    addresses = _addresses(host, port, url)
    return Target(url=url, scheme=scheme, host=host, port=port, address=_vetted(host, addresses, url))


def _addresses(host: str, port: int, url: str) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise ConnectionFailed(f"The host {host!r} of {url} could not be found.",
                               hint="Check the address and your network.") from exc
    found = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone index
        found.append(ipaddress.ip_address(text))
    return found


def _vetted(host: str, addresses: list[IPAddress], url: str) -> IPAddress:
    """The first address, when every address of the host is public (or internal ones are allowed)."""
    settings = get_settings()
    allowed = {h.strip().lower().strip("[]") for h in settings.url_allowed_hosts.split(",") if h.strip()}
    if settings.url_allow_private or host.lower() in allowed:
        return addresses[0]
    for address in addresses:
        why = refusal(address)
        if why is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise InvalidInput(
                f"{url} points inside the network: {shown} is a {why} address, which URL imports may not reach.",
                hint="Use a public link. An administrator can allow internal hosts with URL_ALLOWED_HOSTS "
                     "or URL_ALLOW_PRIVATE.")
    return addresses[0]


def download(url: str, target: Path) -> tuple[str, str]:
    """Stream `url` into `target` under the size cap, redirect limit and one overall deadline.

    Returns (file name, content type). The download runs in a thread the caller stops waiting for at
    the deadline, however slowly the server sends its bytes.
    """
    timeout_s = get_settings().url_timeout_s
    stop, box = threading.Event(), {}
    with target.open("wb") as out:
        worker = threading.Thread(target=_run, args=(url, out, stop, box), name="url-import", daemon=True)
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            stop.set()
            raise ConnectionFailed(f"{url} did not finish within {timeout_s:g} s and was stopped.",
                                   hint="Try again later or a smaller file, or raise URL_TIMEOUT_S.")
    if "error" in box:
        raise box["error"]
    return box["result"]


def _run(url: str, out: BinaryIO, stop: threading.Event, box: dict) -> None:
    try:
        box["result"] = _fetch(url, out, stop)
    except BaseException as exc:  # handed to the waiting caller, which raises it
        box["error"] = exc


def _fetch(url: str, out: BinaryIO, stop: threading.Event) -> tuple[str, str]:
    settings = get_settings()
    deadline = time.monotonic() + settings.url_timeout_s
    try:
        return _follow(url, out, stop, deadline)
    except httpx.TimeoutException as exc:
        raise ConnectionFailed(f"{url} did not answer within {settings.url_timeout_s:g} s.",
                               hint="Try again later, or raise URL_TIMEOUT_S.") from exc
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"{url} could not be reached: {exc}", hint="Check the address and your network.") from exc


def _follow(url: str, out: BinaryIO, stop: threading.Event, deadline: float) -> tuple[str, str]:
    """Request each hop at its vetted address; redirects are resolved and vetted like the first URL.

    Each hop gets its own client, so a connection (and its TLS session for one host name) is never
    reused for another host that happens to share the address.
    """
    settings = get_settings()
    current = url
    for _hop in range(settings.url_max_redirects + 1):
        target = resolve(current)
        with httpx.Client(follow_redirects=False, timeout=settings.url_timeout_s, trust_env=False,
                          headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}) as client, \
                client.stream("GET", _pinned(target), headers={"Host": _host_header(target)},
                              extensions=_sni(target)) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                current = urljoin(current, location.strip())
                continue
            _check_response(response, url)
            _stream(response, out, stop, deadline)
            return _filename(response, target), response.headers.get("content-type", "")
    raise ConnectionFailed(f"{url} redirects more than {settings.url_max_redirects} times.",
                           hint="Use the final download link, or raise URL_MAX_REDIRECTS.")


def _pinned(target: Target) -> httpx.URL:
    """The hop's URL with its host replaced by the vetted address."""
    parts = urlsplit(target.url)
    host = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    query = f"?{parts.query}" if parts.query else ""
    try:
        return httpx.URL(f"{target.scheme}://{host}:{target.port}{parts.path or '/'}{query}")
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"{target.url} is not a valid address: {exc}", hint="Check the link.") from exc


def _host_header(target: Target) -> str:
    host = target.host.encode("idna").decode() if not _is_ip(target.host) else target.host
    if ":" in host:
        host = f"[{host}]"
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _sni(target: Target) -> dict[str, str]:
    return {} if target.scheme != "https" or _is_ip(target.host) else {"sni_hostname": target.host}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _check_response(response: httpx.Response, url: str) -> None:
    if response.status_code >= 400:
        reason = response.reason_phrase or "error"
        hint = "Check the address." if response.status_code == 404 else "The link may need a login or be expired."
        raise ConnectionFailed(f"The server answered {response.status_code} {reason} for {url}.", hint=hint)
    if 300 <= response.status_code < 400:
        raise ConnectionFailed(f"{url} answered {response.status_code} without a place to go.", hint="Check the link.")
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _HTML_TYPES:
        raise UnsupportedFormat(f"{url} answered with a web page (HTML), not a data file.",
                                hint="Open the page, copy the direct download link of the file and paste that.")
    limit_mb = get_settings().max_upload_mb
    declared = int(response.headers.get("content-length") or 0) if (
        response.headers.get("content-length") or "").isdigit() else 0
    if declared > limit_mb * 1024 * 1024:
        raise _too_large(declared, limit_mb)


def _stream(response: httpx.Response, out: BinaryIO, stop: threading.Event, deadline: float) -> None:
    """Copy the body as it arrives (no waiting for full chunks) under the size cap and the deadline.

    The size cap counts decoded bytes, so a compressed body cannot expand past it.
    """
    settings = get_settings()
    limit, written = settings.max_upload_mb * 1024 * 1024, 0
    for chunk in _decoded(response.iter_raw(), _encoding(response)):
        if stop.is_set() or time.monotonic() > deadline:
            raise ConnectionFailed(f"The download took longer than {settings.url_timeout_s:g} s and was stopped.",
                                   hint="Try a smaller file or raise URL_TIMEOUT_S.")
        written += len(chunk)
        if written > limit:
            raise _too_large(written, settings.max_upload_mb, partial=True)
        out.write(chunk)


def _encoding(response: httpx.Response) -> str:
    """The one content encoding to undo ("" for none); stacked or unknown encodings are refused."""
    layers = [part.strip().lower() for value in response.headers.get_list("content-encoding")
              for part in value.split(",")]
    layers = [layer for layer in layers if layer and layer != "identity"]
    if not layers:
        return ""
    if len(layers) == 1 and layers[0] in _WBITS:
        return layers[0]
    raise IngestError(f"The server sent the file compressed as {', '.join(layers)}, which is not accepted.",
                      hint="Only uncompressed bodies or one layer of gzip or deflate are read; download the file "
                           "another way, or link to the compressed file itself (e.g. a .csv.gz).")


def _decoded(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """The body's bytes with its one gzip/deflate layer undone, at most _DECODE_STEP bytes at a time."""
    if not encoding:
        yield from chunks
        return
    decoder = _decoder(encoding)
    try:
        for chunk in chunks:
            data = chunk
            while data:
                piece = decoder.decompress(data, _DECODE_STEP)
                if piece:
                    yield piece
                data = decoder.unconsumed_tail
                if decoder.eof:
                    data = decoder.unused_data
                    decoder = _decoder(encoding)
        tail = decoder.flush()  # at most one window (32 KB) of output can be left pending
        if tail:
            yield tail
    except zlib.error as exc:
        raise IngestError(f"The server's {encoding} compressed body is damaged: {exc}",
                          hint="Try the download again, or ask the server for the uncompressed file.") from exc


def _decoder(encoding: str) -> zlib._Decompress:
    return zlib.decompressobj(_WBITS[encoding])


def _too_large(size: int, limit_mb: int, *, partial: bool = False) -> TooLarge:
    what = "more than " if partial else ""
    return TooLarge(f"The download is {what}{size / 1024 / 1024:.1f} MB, over the {limit_mb} MB limit.",
                    hint="Raise MAX_UPLOAD_MB in the settings or import a smaller file.")


def _filename(response: httpx.Response, target: Target) -> str:
    disposition = response.headers.get("content-disposition", "")
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        name = msg.get_filename()
        if name:
            return Path(name).name
    return Path(unquote(urlsplit(target.url).path)).name or "download"
