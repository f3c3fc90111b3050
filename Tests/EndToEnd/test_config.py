"""Configuration and start-up (conformance 1-11, server-conf.md §1, §3-§7) as black-box checks."""


from conftest import (
    HOST,
    SHARED_SECRET,
    assert_names_line,
    default_conf,
    error_json,
    get,
    hello,
    line_of,
    patch_session,
    register,
    request,
    sharedsecret_combo,
    start_expect_failure,
    ws_self,
)

HEX64 = "0123456789abcdef" * 4          # 32 bytes after hex decoding
HEX32 = "0123456789abcdef" * 2          # 16 bytes after hex decoding
RAW40 = "this-is-a-forty-character-raw-secret-xyz"  # 40 non-hex characters
assert len(RAW40) == 40


def listen_conf(body: str) -> str:
    """A conf whose first two lines are the listener (port substituted later, line numbers stay stable)."""
    return "[http]\nlisten = 127.0.0.1:@PORT@\n" + body


def assert_config_error(stderr: str, conf: str, needle: str, key: str):
    assert stderr.strip(), "no error message on stderr"
    assert "server.conf" in stderr, f"stderr does not name the config file:\n{stderr}"
    assert key.lower() in stderr.lower(), f"stderr does not name key {key!r}:\n{stderr}"
    assert_names_line(stderr, line_of(conf, needle))


# -- 1 -----------------------------------------------------------------------------------------------------------------

EXAMPLE_CONF = """\
; Spreed WebRTC server example configuration (as shipped, placeholders in place)

[http]
; Full path to directory where to find the server web assets.
;root = /usr/share/spreed-webrtc-server/www
listen = 127.0.0.1:@PORT@
;readtimeout = 10
;writetimeout = 10
;basePath = /some/sub/path/
;stats = true

[https]
;listen = 127.0.0.1:8443
;certificate = server.crt
;key = server.key

[app]
;title = Spreed WebRTC
;ver = 1234
;stunURIs = stun:stun.spreed.me:443
;turnURIs = turn:turnserver:port?transport=udp
;turnSecret = the-default-turn-shared-secret-do-not-keep
sessionSecret = the-default-secret-do-not-keep-me
encryptionSecret = tne-default-encryption-block-key
;authorizeRoomCreation = false
;authorizeRoomJoin = false
;serverToken = i-did-not-change-the-public-token-boo
;serverRealm = local
;extra = /usr/share/spreed-webrtc-server/extra
;plugin = extra/static/myplugin.js
;contentSecurityPolicy =
;contentSecurityPolicyReportOnly =

[modules]
;screensharing = true
;youtube = true
;presentation = true
;contacts = true

[log]
;logfile = /var/log/spreed-webrtc-server.log

[users]
;enabled = false
;mode = sharedsecret
;allowRegistration = false
;sharedsecret_secret = some-secret-do-not-keep

[nats]
;channelling_trigger = false

[roomtypes]
;^conference/.+ = Conference
"""


def test_01_example_conf_starts_and_warns_about_placeholders(rooms):
    srv = rooms(EXAMPLE_CONF)
    cfg = srv.config()
    assert cfg["Title"] == "Spreed WebRTC"
    log = srv.wait_log(r"sessionsecret")
    log = srv.wait_log(r"encryptionsecret")
    assert "the-default-secret-do-not-keep-me" not in log, "secret value printed in the log"
    assert "tne-default-encryption-block-key" not in log, "secret value printed in the log"


# -- 2 -----------------------------------------------------------------------------------------------------------------

def test_02_session_secret_64_hex_starts(rooms):
    srv = rooms(f"[app]\nsessionSecret = {HEX64}\nencryptionSecret = {HEX64}\n")
    assert srv.config()["Title"] == "Spreed WebRTC"
    assert HEX64 not in srv.log()


def test_02_session_secret_40_raw_starts_with_warning(rooms):
    srv = rooms(f"[app]\nsessionSecret = {RAW40}\nencryptionSecret = {HEX64}\n")
    srv.config()
    log = srv.wait_log(r"sessionsecret")
    assert RAW40 not in log, "secret value printed in the log"


def test_02_session_secret_32_hex_is_16_bytes_and_refused():
    conf = listen_conf(f"[app]\nsessionSecret = {HEX32}\nencryptionSecret = {HEX64}\n")
    err = start_expect_failure(conf)
    assert_config_error(err, conf, "sessionSecret", "sessionSecret")


# -- 3 -----------------------------------------------------------------------------------------------------------------

def test_03_encryption_secret_20_raw_bytes_refused():
    conf = listen_conf(f"[app]\nsessionSecret = {HEX64}\nencryptionSecret = twenty-raw-bytes-xyz\n")
    assert len("twenty-raw-bytes-xyz") == 20
    err = start_expect_failure(conf)
    assert_config_error(err, conf, "encryptionSecret", "encryptionSecret")


def test_03_encryption_secret_32_hex_aes128_starts(rooms):
    srv = rooms(f"[app]\nsessionSecret = {HEX64}\nencryptionSecret = {HEX32}\n")
    conn, me = ws_self(srv.url)
    conn.close()
    assert me["Id"] and me["Token"]


def test_03_encryption_secret_24_raw_bytes_starts(rooms):
    srv = rooms(f"[app]\nsessionSecret = {HEX64}\nencryptionSecret = twenty-four-raw-bytes-xy\n")
    assert len("twenty-four-raw-bytes-xy") == 24
    conn, me = ws_self(srv.url)
    conn.close()


# -- 4 -----------------------------------------------------------------------------------------------------------------

def test_04_uppercase_section_and_key_are_recognised(rooms):
    srv = rooms("[APP]\nTITLE = Upper Case Title\nSESSIONSECRET = " + HEX64 + "\n[MODULES]\nYOUTUBE = false\n")
    cfg = srv.config()
    assert cfg["Title"] == "Upper Case Title"
    assert "youtube" not in cfg["Modules"]


def test_04_uppercase_sessionsecret_is_validated():
    # If SESSIONSECRET were not recognised as sessionSecret, a secret would be generated and the server would start.
    conf = listen_conf(f"[APP]\nSESSIONSECRET = {HEX32}\n")
    err = start_expect_failure(conf)
    assert "sessionsecret" in err.lower(), err


# -- 5 -----------------------------------------------------------------------------------------------------------------

def test_05_invalid_boolean_falls_back_with_warning(rooms):
    conf = "[http]\nstats = maybe\n"
    srv = rooms(conf)
    r = get(srv.u("api/v1/stats"))
    is_stats = False
    try:
        is_stats = r.status_code == 200 and "hub" in r.json()
    except ValueError:
        pass
    assert not is_stats, "stats = maybe must keep the default (false)"
    log = srv.wait_log(r"stats")
    # the warning names file, line and key
    assert "server.conf" in log, log
    assert_names_line(log, line_of(srv.conf_text, "stats = maybe"))


def test_05_boolean_spellings(rooms):
    srv = rooms("[modules]\ncontacts = off\nyoutube = No\nscreensharing = 1\npresentation = YES\n"
                "[app]\nrenegotiation = t\n")
    cfg = srv.config()
    assert sorted(cfg["Modules"]) == ["presentation", "screensharing"]
    assert cfg["Renegotiation"] is True


# -- 6 -----------------------------------------------------------------------------------------------------------------

def test_06_unknown_room_type_refused():
    conf = listen_conf("[roomtypes]\n^conf/.+ = Foo\n")
    err = start_expect_failure(conf)
    assert err.strip()
    assert "server.conf" in err, err
    assert_names_line(err, line_of(conf, "= Foo"))


def test_06_bad_room_type_regex_refused():
    conf = listen_conf("[roomtypes]\n^conf/( = Conference\n")
    err = start_expect_failure(conf)
    assert err.strip()
    assert "server.conf" in err, err
    assert_names_line(err, line_of(conf, "^conf/("))


def test_06_room_type_room_is_accepted(rooms):
    srv = rooms("[roomtypes]\n^plain/.+ = Room\n^empty/.+ =\n")
    conn, _ = ws_self(srv.url)
    try:
        assert hello(conn, "plain/x")["Room"]["Type"] == "Room"
    finally:
        conn.close()


# -- 7 -----------------------------------------------------------------------------------------------------------------

def test_07_roomtype_keys_are_lowercased(rooms):
    srv = rooms("[roomtypes]\n^Conf/.+ = Conference\n")
    conn, _ = ws_self(srv.url)
    try:
        w = hello(conn, "conf/a", "1")
        assert w["Type"] == "Welcome", w
        assert w["Room"]["Type"] == "Conference", w
        assert w["Room"]["Name"] == "conf/a"
        w = hello(conn, "Conf/a", "2")
        assert w["Type"] == "Welcome", w
        assert w["Room"]["Type"] == "Room", w
    finally:
        conn.close()


# -- 8 -----------------------------------------------------------------------------------------------------------------

def test_08_missing_token_file_refused():
    conf = listen_conf("[app]\ntokenFile = /does/not/exist\n")
    err = start_expect_failure(conf)
    assert_config_error(err, conf, "tokenFile", "tokenFile")


def test_08_empty_token_file_means_no_tokens(rooms):
    srv = rooms("[app]\ntokenFile =\n")
    assert srv.config()["Tokens"] is False


def test_08_malformed_token_file_is_rejected_clearly():
    # lines with different numbers of ':' fields (the original panics per request; Rooms: reject with a clear error)
    conf = listen_conf("[app]\ntokenFile = @DIR@/tokens.txt\n")
    err = start_expect_failure(conf, files={"tokens.txt": "abc:first\ndef:second:third\n"})
    assert "token" in err.lower(), err


# -- 9 -----------------------------------------------------------------------------------------------------------------

def test_09_sharedsecret_mode_without_secret(rooms):
    srv = rooms("[users]\nenabled = true\nmode = sharedsecret\nallowRegistration = true\n")
    cfg = srv.config()
    assert cfg["UsersEnabled"] is True and cfg["UsersMode"] == "sharedsecret"
    conn, me = ws_self(srv.url)
    try:
        for key in ("", SHARED_SECRET):
            combo, secret = sharedsecret_combo("bob", 4102444800, key=key)
            r = patch_session(srv, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo,
                                              "secret": secret})
            assert r.status_code == 403, (r.status_code, r.text)
            assert error_json(r)["code"] == "session_patch_failed"
        r = register(srv, me)
        assert r.status_code == 404, (r.status_code, r.text)
        assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
        assert r.text.strip() == "No handler found"
    finally:
        conn.close()


def test_09_unknown_users_mode_is_not_fatal(rooms):
    srv = rooms("[users]\nenabled = true\nmode = bogus\nallowRegistration = true\n")
    assert srv.config()["UsersMode"] == "bogus"
    conn, me = ws_self(srv.url)
    try:
        r = register(srv, me)
        assert r.status_code == 404 and r.text.strip() == "No handler found", (r.status_code, r.text)
    finally:
        conn.close()


def test_users_disabled_has_no_session_route(rooms):
    srv = rooms("")
    conn, me = ws_self(srv.url)
    try:
        combo, secret = sharedsecret_combo("bob", 4102444800)
        r = patch_session(srv, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo, "secret": secret})
        assert r.status_code in (404, 405), (r.status_code, r.text)
        assert "nonce" not in r.text
        r = register(srv, me)
        assert r.status_code in (404, 405), (r.status_code, r.text)
        assert "nonce" not in r.text and "success" not in r.text
    finally:
        conn.close()


# -- 10 ----------------------------------------------------------------------------------------------------------------

def test_10_no_listener_refused():
    err = start_expect_failure("[app]\ntitle = nowhere\n", add_listen=False)
    assert err.strip(), "no error message on stderr"


# -- 11 ----------------------------------------------------------------------------------------------------------------

def test_11_base_path_gets_trailing_slash(rooms):
    srv = rooms("[http]\nbasePath = /sub\n")
    r = get(f"{srv.url}/sub/api/v1/config")
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.json()["B"] == "/sub/"


# -- minimal config, overrides, syntax -----------------------------------------------------------------------------------

def test_minimal_conf_starts_and_generates_secrets(rooms):
    srv = rooms(f"[http]\nlisten = {HOST}:@PORT@\n")
    cfg = srv.config()
    assert cfg["Title"] == "Spreed WebRTC"
    assert cfg["B"] == "/"
    assert any(srv.data_dir.iterdir()), "generated secrets were not persisted in the data dir"


def test_set_option_overrides_file(rooms):
    srv = rooms("[app]\ntitle = From File\n", extra_args=["--set", "app.title=From Set"])
    assert srv.config()["Title"] == "From Set"


def test_env_overrides_file(rooms):
    srv = rooms("[app]\ntitle = From File\n", env={"ROOMS_APP_TITLE": "From Env"})
    assert srv.config()["Title"] == "From Env"


def test_env_override_of_users_section(rooms):
    srv = rooms("", env={"ROOMS_USERS_ENABLED": "true", "ROOMS_USERS_MODE": "sharedsecret"})
    cfg = srv.config()
    assert cfg["UsersEnabled"] is True and cfg["UsersMode"] == "sharedsecret"


def test_set_option_is_validated_like_the_file():
    err = start_expect_failure(listen_conf(""), extra_args=["--set", f"app.sessionSecret={HEX32}"])
    assert "sessionsecret" in err.lower(), err


def test_unknown_keys_and_sections_are_logged_not_fatal(rooms):
    srv = rooms("[app]\nfrobnicateWidgets = 1\n[bogussection]\nfoo = bar\n")
    srv.config()
    srv.wait_log(r"frobnicatewidgets")
    srv.wait_log(r"bogussection")


def test_ini_syntax_comments_colon_and_duplicates(rooms):
    conf = (
        "# a comment\n"
        "; another comment\n"
        "[app]\n"
        "title = first\n"
        "title: Second ;inline comment\n"
        "plugin = js/a#b.js\n"
        "[modules]\n"
        "contacts = false # trailing comment\n"
    )
    srv = rooms(conf)
    cfg = srv.config()
    assert cfg["Title"] == "Second"
    assert cfg["Plugin"] == "js/a#b.js"
    assert "contacts" not in cfg["Modules"]


def test_ini_syntax_interpolation_same_section(rooms):
    srv = rooms("[app]\ngreeting = Hello\nwho = World\ntitle = %(greeting)s %(who)s\n")
    assert srv.config()["Title"] == "Hello World"


def test_ini_syntax_interpolation_from_default_section(rooms):
    # lines before the first section belong to [default], whose options are visible in every section
    srv = rooms("who = World\n[app]\ntitle = Hello %(who)s\n")
    assert srv.config()["Title"] == "Hello World"


def test_ini_syntax_default_section_is_visible_everywhere(rooms):
    srv = rooms("title = From Default\n[app]\nplugin = p.js\n")
    cfg = srv.config()
    assert cfg["Title"] == "From Default"
    assert cfg["Plugin"] == "p.js"


def test_ini_syntax_undefined_interpolation_counts_as_missing(rooms):
    srv = rooms("[app]\ntitle = Hello %(nobody)s\n")
    assert srv.config()["Title"] == "Spreed WebRTC"


def test_ini_syntax_continuation_line(rooms):
    srv = rooms("[app]\ntitle = Line1\n  Line2\n")
    assert srv.config()["Title"] == "Line1\nLine2"


def test_ini_syntax_rem_quirk(rooms):
    # a line starting with "rem" (any case) is a comment, so it does not continue the title
    srv = rooms("[app]\ntitle = kept\nREM this is a comment\n")
    assert srv.config()["Title"] == "kept"


def test_continuation_before_any_option_is_fatal():
    conf = listen_conf("[app]\njust some words\n")
    err = start_expect_failure(conf)
    assert "server.conf" in err, err
    assert_names_line(err, line_of(conf, "just some words"))


def test_bad_root_is_fatal():
    err = start_expect_failure(listen_conf(""), root="/does/not/exist")
    assert err.strip()


def test_stun_and_turn_uri_lists(rooms):
    srv = rooms("[app]\nstunURIs = stun:127.0.0.1:3478  stun:127.0.0.2:3478 stun:127.0.0.1:3478\n"
                "turnURIs = turn:127.0.0.1:3478?transport=udp\nturnSecret = x\n")
    cfg = srv.config()
    assert cfg["StunURIs"] == ["stun:127.0.0.1:3478", "stun:127.0.0.2:3478"]
    assert cfg["TurnURIs"] == ["turn:127.0.0.1:3478?transport=udp"]


def test_default_profile_config(rooms):
    srv = rooms(default_conf())
    cfg = srv.config()
    assert cfg["UsersEnabled"] is True
    assert cfg["UsersAllowRegistration"] is True
    assert cfg["UsersMode"] == "sharedsecret"
    r = request("POST", srv.u("api/v1/rooms"))
    assert r.status_code == 200


def test_https_listener_with_unloadable_certificate_is_fatal():
    conf = listen_conf("[https]\nlisten = 127.0.0.1:0\ncertificate = /does/not/exist.crt\nkey = /does/not/exist.key\n")
    err = start_expect_failure(conf)
    assert "certificate" in err.lower() or "tls" in err.lower(), err


def test_extra_must_be_a_directory():
    conf = listen_conf("[app]\nextra = /does/not/exist\n")
    err = start_expect_failure(conf)
    assert_config_error(err, conf, "extra =", "extra")


def test_extra_d_must_be_a_directory():
    conf = listen_conf("[app]\nextra.d = /does/not/exist\n")
    err = start_expect_failure(conf)
    assert "extra.d" in err.lower(), err
