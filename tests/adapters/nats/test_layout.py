"""brainlessdb layout and value formats (pure, no NATS)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
import pytest
from msgspec import Meta

from adapters import redact_url
from adapters.backends.nats._conn import cluster_size, parse_url
from adapters.backends.nats._layout import (
    Flag,
    Layout,
    bucket_collection,
    bucket_name_error,
    collection_bucket,
    decode_key,
    encode_key,
)
from adapters.backends.nats._seeds import Seeds
from adapters.backends.nats._wire import ConfigValue, decode_config, dlq_entry, encode
from bench.nats_common import Address, AppaLocal, AppbLocal


class DeviceV1(msgspec.Struct, kw_only=True, tag_field="TYPE", tag=True):
    serial: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.UNIQUE})]
    site: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.INDEX})] = ""
    status: Annotated[int, Meta(extra={"brainlessdb_flags": Flag.STATE | Flag.INDEX})] = 0
    note: Annotated[str | None, Meta(extra={"brainlessdb_flags": Flag.INDEX})] | None = None
    address: Address | None = None
    _: AppaLocal | AppbLocal | None = None


def test_flags_have_brainlessdb_values() -> None:
    assert (int(Flag.INDEX), int(Flag.STATE), int(Flag.UNIQUE)) == (1, 2, 4)


def test_layout_reads_flags_and_local_class() -> None:
    layout = Layout.build("DeviceV1", "appa", DeviceV1, indexes=["address"])
    assert layout.state_fields == {"status"}
    assert layout.unique_fields == {"serial"}
    assert layout.index_fields == {"serial", "site", "status", "note", "address"}
    assert layout.local_class is AppaLocal
    assert layout.state_bucket == "DeviceV1-State"
    assert layout.local_bucket == "DeviceV1-AppaLocal"
    other = Layout.build("DeviceV1", "AppB", DeviceV1)
    assert other.local_bucket == "DeviceV1-AppbLocal"
    assert Layout.build("DeviceV1", "appc", DeviceV1).local_bucket is None


def test_split_and_join_round_trip_a_typed_record() -> None:
    layout = Layout.build("DeviceV1", "appa", DeviceV1)
    device = DeviceV1(serial="SN-1", status=5, address=Address("Main 1", "Prague"), _=AppaLocal(7))
    doc = msgspec.to_builtins(device)
    d, state, local = layout.split(doc)
    assert d == {
        "serial": "SN-1",
        "site": "",
        "note": None,
        "address": {"TYPE": "Address", "street": "Main 1", "city": "Prague"},
    }
    assert state == {"status": 5}
    assert local == {"TYPE": "AppaLocal", "cursor": 7}
    joined = layout.join("k", d, state, local)
    assert msgspec.convert(joined, DeviceV1) == device


def test_join_rejects_wrong_types_and_prefers_the_state_bucket() -> None:
    layout = Layout.build("DeviceV1", "appa", DeviceV1)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.serial"):
        layout.check(layout.join("k", {"serial": 1}, None, None))
    assert layout.join("k", {"serial": "x", "status": 1}, {"status": 9}, None)["status"] == 9


def test_untyped_layout_keeps_every_key() -> None:
    layout = Layout.build("users", "app")
    d, state, local = layout.split({"_": 1, "name": "a", "TYPE": "t"})
    assert (d, state, local) == ({"_": 1, "name": "a", "TYPE": "t"}, None, None)


def test_collection_names_map_to_reversible_bucket_names() -> None:
    assert collection_bucket("DeviceV1") == "DeviceV1"
    for name in ["hostile 'name'", "h-abc", "ü", "a.b"]:
        bucket = collection_bucket(name)
        assert bucket_name_error(bucket) is None
        assert bucket_collection(bucket) == name
    with pytest.raises(ValueError, match="too long"):
        collection_bucket("x" * 255)


@pytest.mark.parametrize(
    "key", ["740f36de-e6f1-11f1-a65b-02fc00000001", "user-1", "a b", "ü", ".x", "x.", "a..b", "=x"]
)
def test_keys_round_trip_and_uuids_stay_verbatim(key: str) -> None:
    encoded = encode_key(key)
    assert decode_key(encoded) == key
    assert all(c.isalnum() or c in "-_/=." for c in encoded)
    assert (encoded == key) == (key in ("740f36de-e6f1-11f1-a65b-02fc00000001", "user-1"))


def test_config_value_matches_brainlessdb_shape() -> None:
    raw = b'{"d":{"serial":"SN-1"},"l":"appa","m":{"created_at":1.5,"updated_at":2.5,"created_by":"appa"}}'
    value = decode_config(raw)
    assert value.d == {"serial": "SN-1"}
    assert (value.l, value.m.created_at, value.m.updated_at, value.m.created_by) == (
        "appa",
        1.5,
        2.5,
        "appa",
    )
    assert json.loads(encode(value)) == json.loads(raw)
    assert decode_config(b'{"d":{}}') == ConfigValue(d={})


def test_dlq_entry_uses_brainlessdb_key_and_value() -> None:
    when = datetime(2026, 11, 23, 4, 9, 23, 768011, tzinfo=UTC)
    key, body = dlq_entry("DeviceV1", "appb", "k1", "bad", b'{"d": 1}', when)
    assert key == "DeviceV1__k1__2026-11-23T04-09-23.768011-00-00"
    assert json.loads(body) == {
        "source_bucket": "DeviceV1",
        "namespace": "appb",
        "key": "k1",
        "error": "bad",
        "timestamp": "2026-11-23T04:09:23.768011+00:00",
        "value": {"d": 1},
    }
    _, body = dlq_entry("DeviceV1", "appb", "k1", "bad", b"not json", when)
    assert json.loads(body)["value"] == "not json"


def test_url_options_are_typed_and_validated() -> None:
    seeds, options = parse_url(
        "nats://u:secret@127.0.0.1:4222?namespace=app&flush_interval=0.01", {"prefix": "t_"}
    )
    assert seeds.servers == ("nats://127.0.0.1:4222",)
    assert (seeds.user, seeds.password, seeds.token) == ("u", "secret", None)
    assert "secret" not in repr(seeds)
    assert (options.namespace, options.flush_interval, options.prefix) == ("app", 0.01, "t_")
    assert options.on_invalid == "quarantine"
    assert options.replicas == "auto"
    with pytest.raises(ValueError, match="unknown nats option 'nope'"):
        parse_url("nats://h?nope=1", {})
    with pytest.raises(ValueError, match="'write_timeout' must be a number"):
        parse_url("nats://h?write_timeout=x", {})
    with pytest.raises(ValueError, match="on_invalid"):
        parse_url("nats://h?on_invalid=drop", {})
    with pytest.raises(ValueError, match="prefix"):
        parse_url("nats://h?prefix=a.b", {})


def test_seed_list_with_credentials_given_once() -> None:
    seeds, _ = parse_url("tls://u%40x:p%3Aw@h1:4222,h2:4223, [::1]:4224?namespace=app", {})
    assert seeds.servers == ("tls://h1:4222", "tls://h2:4223", "tls://[::1]:4224")
    assert (seeds.user, seeds.password) == ("u@x", "p:w")
    seeds, _ = parse_url("nats://s3cr3t@h1,h2:4222", {})
    assert (seeds.token, seeds.user, seeds.servers) == (
        "s3cr3t",
        None,
        ("nats://h1", "nats://h2:4222"),
    )
    assert "s3cr3t" not in repr(seeds)
    with pytest.raises(ValueError, match="bad server address 'h 2:1'") as caught:
        parse_url("nats://u:hunter2@h1:4222,h 2:1", {})
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError, match="bad server address ''"):
        parse_url("nats://u:hunter2@h1:4222,", {})
    with pytest.raises(ValueError, match="bad server address 'h:99999'"):
        parse_url("nats://h1:4222,h:99999", {})
    url = "nats://u:hunter2@h1:4222,h2:4222?namespace=app&token=abc"
    assert redact_url(url) == "nats://***@h1:4222,h2:4222?namespace=app&token=***"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("?replicas=auto", "auto"), ("?replicas=3", 3), ("?replicas=1", 1), ("", "auto")],
)
def test_replicas_option(given: str, expected: object) -> None:
    assert parse_url("nats://h" + given, {})[1].replicas == expected


@pytest.mark.parametrize(
    ("url", "keywords", "message"),
    [
        ("nats://h?replicas=0", {}, "'replicas' must be 1 to 5 or 'auto', got 0"),
        ("nats://h?replicas=6", {}, "'replicas' must be 1 to 5 or 'auto', got 6"),
        ("nats://h?replicas=three", {}, "'replicas' must be 'auto' or a whole number, got 'three'"),
        ("nats://h?replicas=-1", {}, "'replicas' must be 'auto' or a whole number, got '-1'"),
        ("nats://h", {"replicas": 2.5}, "'replicas' must be 'auto' or a whole number, got 2.5"),
        ("nats://h", {"replicas": True}, "'replicas' must be 'auto' or a whole number, got True"),
    ],
)
def test_replicas_option_rejects_bad_values(
    url: str, keywords: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_url(url, keywords)


def test_cluster_size_from_server_info() -> None:
    one = Seeds(("nats://a:1",))
    three = Seeds(("nats://a:1", "nats://b:1", "nats://c:1"))
    assert cluster_size({}, three) == 1  # no cluster name: a single server
    assert cluster_size({"cluster": "c", "connect_urls": ["a:1", "b:1", "c:1"]}, one) == 3
    assert cluster_size({"cluster": "c", "connect_urls": ["a:1", "b:1"]}, three) == 3
    assert cluster_size({"cluster": "c", "connect_urls": ["a:1", "b:1"]}, one) == 2
