#!/usr/bin/env bash
# SASL authentication (issue 4): librdkafka (rk_sasl) and kafkajs (js/sasl.js) log in with
# PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on a SASL_PLAINTEXT and a SASL_SSL listener (TLS
# verified against a CA generated here) as alice, a member of tenant acme, and each
# produces records with keys and headers to a topic of its own under "acme." and reads
# them back. Then:
#   - the raw protocol: Metadata before authenticating closes the connection (as Kafka
#     does: no answer, the broker log says ILLEGAL_SASL_STATE); SaslAuthenticate before
#     SaslHandshake → ILLEGAL_SASL_STATE (34), then the close; ApiVersions before
#     authenticating works; SaslHandshake GSSAPI → UNSUPPORTED_SASL_MECHANISM (33) with
#     the enabled list; a hand-made PLAIN login;
#   - wrong secrets, every mechanism: by hand, SASL_AUTHENTICATION_FAILED (58) with a
#     message, then the close; librdkafka reports _AUTHENTICATION and kafkajs a
#     KafkaJSSASLAuthenticationError, each carrying that message; the broker logs the
#     peer address and never a password;
#   - after a restart (credentials persist: a SCRAM-SHA-512 login over SASL_SSL still
#     works), consecutive failures from one address are answered later and later
#     (failed_auth_delay_ms = 100, doubling), without stalling other connections, and an
#     unknown user looks like a wrong password;
#   - <data_dir>/meta/credentials.json holds StoredKey/ServerKey for alice that match her
#     password, and neither the password nor SaltedPassword (base64 or hex).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"
JS_DIR="$(cd "$(dirname "$0")/js" && pwd)"
: "${NODE:=node}"
[ -d "$JS_DIR/node_modules/kafkajs" ] ||
    fail "kafkajs is not installed: run 'npm ci' in $JS_DIR (deploy/test.sh does)"

USER_NAME=alice
PASSWORD='s3cret,=pass word!' # ',' and '=' are what SCRAM escapes (in names), ' ' what shells split
WRONG_PASSWORD='not-her-password'
COUNT=200
MECHS="PLAIN SCRAM-SHA-256 SCRAM-SHA-512"
PROTOCOLS="sasl_plaintext sasl_ssl"
TLS="$ST_TMP/tls"

certs_make "$TLS"
certs_check_san "$TLS"

# sasl_config DELAY_MS: the listeners and security settings for the next start_broker.
sasl_config() {
    ST_BROKER_CFG='listeners = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0";'
    ST_EXTRA_CFG="security = { sasl_mechanisms = \"PLAIN,SCRAM-SHA-256,SCRAM-SHA-512\";
    ssl_certificate = \"$TLS/server.pem\"; ssl_key = \"$TLS/server.key\";
    authorizer = true; super_users = \"User:ANONYMOUS;User:admin\";
    allow_everyone_if_no_acl_found = false; failed_auth_delay_ms = $1; };
groups = { initial_rebalance_delay_ms = 0; offsets_topic_partitions = 1; };"
}

start_sasl_broker() {
    sasl_config "$1"
    start_broker
    [ -n "$PLAINTEXT_PORT" ] && [ -n "$SASL_PLAINTEXT_PORT" ] && [ -n "$SASL_SSL_PORT" ] ||
        fail "the ready file \"$(cat "$ST_READY")\" lacks PLAINTEXT=, SASL_PLAINTEXT= or SASL_SSL= ports"
    [ "$BROKER_PORT" = "$PLAINTEXT_PORT" ] ||
        fail "first port $BROKER_PORT is not the first listener's (PLAINTEXT=$PLAINTEXT_PORT)"
}

port_of() { # PROTOCOL → its listener's port
    case $1 in
    sasl_plaintext) echo "$SASL_PLAINTEXT_PORT" ;;
    sasl_ssl) echo "$SASL_SSL_PORT" ;;
    esac
}

rk() { timeout 60 "$RK_BIN/rk_sasl" "$@"; }
kjs() { timeout 60 "$NODE" "$JS_DIR/sasl.js" "$@"; }

# ---- phase 1: a 1 ms failure delay, so the dozen wrong-password cases stay quick ----
start_sasl_broker 1
log "listeners: PLAINTEXT $PLAINTEXT_PORT, SASL_PLAINTEXT $SASL_PLAINTEXT_PORT, SASL_SSL $SASL_SSL_PORT"

# Tenant and user: through `strait` when it has the commands, else the management
# command itself (same JSON contract).
TOKEN=$(cat "$ST_DATA/meta/mgmt.token") || fail "no management token in $ST_DATA/meta/mgmt.token"
if [ -n "${STRAIT:-}" ] && "$STRAIT" users --help >/dev/null 2>&1 && "$STRAIT" tenants --help >/dev/null 2>&1; then
    st() { timeout 30 "$STRAIT" --mgmt "$ST_MGMT" --data-dir "$ST_DATA" "$@"; }
    st tenants create acme >"$ST_TMP/mgmt.txt" 2>&1 || { cat "$ST_TMP/mgmt.txt" >&2; fail "strait tenants create acme"; }
    st users add "$USER_NAME" --password "$PASSWORD" --tenant acme >>"$ST_TMP/mgmt.txt" 2>&1 ||
        { cat "$ST_TMP/mgmt.txt" >&2; fail "strait users add $USER_NAME"; }
    log "tenant acme and user $USER_NAME created with the strait CLI"
else
    mgmt() { timeout 30 "$RK_BIN/rk_sasl" mgmt "$ST_MGMT" "$TOKEN" "$@"; }
    mgmt tenants.create '{"name":"acme"}' >"$ST_TMP/mgmt.txt" || fail "tenants.create acme"
    mgmt users.add "{\"user\":\"$USER_NAME\",\"password\":\"$PASSWORD\",\"tenant\":\"acme\"}" \
        >>"$ST_TMP/mgmt.txt" || fail "users.add $USER_NAME"
    log "tenant acme and user $USER_NAME created with the management commands (no strait users/tenants yet)"
fi

# The matrix: the kafkajs run goes in the background while librdkafka runs, two cores.
for proto in $PROTOCOLS; do
    port=$(port_of "$proto")
    for mech in $MECHS; do
        lmech=$(echo "$mech" | tr 'A-Z' 'a-z')
        suffix="$lmech-${proto//_/-}"
        st_bg "$ST_TMP/kjs-$suffix.out" "$ST_TMP/kjs-$suffix.err" \
            kjs roundtrip "127.0.0.1:$port" "$proto" "$lmech" "$USER_NAME" "$PASSWORD" "$TLS/ca.pem" \
            "acme.kjs-$suffix" "$COUNT"
        kjs_pid=$ST_BG_PID
        rk roundtrip "127.0.0.1:$port" "$proto" "$mech" "$USER_NAME" "$PASSWORD" "$TLS/ca.pem" \
            "acme.rk-$suffix" "$COUNT" >"$ST_TMP/rk-$suffix.out" 2>"$ST_TMP/rk-$suffix.err" || {
            cat "$ST_TMP/rk-$suffix.err" >&2
            fail "librdkafka $proto $mech: produce and read back as $USER_NAME failed"
        }
        log "$(cat "$ST_TMP/rk-$suffix.out")"
        wait "$kjs_pid" || {
            cat "$ST_TMP/kjs-$suffix.err" >&2
            fail "kafkajs $proto $lmech: produce and read back as $USER_NAME failed"
        }
        log "$(cat "$ST_TMP/kjs-$suffix.out")"
    done
done

# What the SASL clients wrote, seen by an anonymous super user on the PLAINTEXT listener.
read_topic acme.rk-scram-sha-512-sasl-ssl '%k %h %s\n' >"$ST_TMP/kcat.txt"
assert_eq "$COUNT" "$(wc -l <"$ST_TMP/kcat.txt")" "records kcat reads from acme.rk-scram-sha-512-sasl-ssl"
assert_contains "$ST_TMP/kcat.txt" "^key-$((COUNT - 1)) seq=$((COUNT - 1)),mech=SCRAM-SHA-512 value-$((COUNT - 1))-SCRAM-SHA-512-sasl_ssl$" \
    "the last record as librdkafka produced it over SASL_SSL"

# Verification is really on: trusting another CA, both clients refuse the broker.
certs_make "$ST_TMP/other-ca"
rc=0
rk badauth "127.0.0.1:$SASL_SSL_PORT" sasl_ssl SCRAM-SHA-256 "$USER_NAME" "$PASSWORD" "$ST_TMP/other-ca/ca.pem" \
    >"$ST_TMP/badca-rk.txt" 2>"$ST_TMP/badca-rk.err" || rc=$?
[ "$rc" -ne 0 ] || fail "librdkafka trusted a broker certificate from a CA it was not given"
assert_contains "$ST_TMP/badca-rk.txt" "^auth-error _(SSL|TRANSPORT): .*certificate verify failed" \
    "librdkafka with the wrong CA: the certificate is refused"
rc=0
kjs badauth "127.0.0.1:$SASL_SSL_PORT" sasl_ssl scram-sha-256 "$USER_NAME" "$PASSWORD" "$ST_TMP/other-ca/ca.pem" \
    >"$ST_TMP/badca-kjs.txt" 2>"$ST_TMP/badca-kjs.err" || rc=$?
[ "$rc" -ne 0 ] || fail "kafkajs trusted a broker certificate from a CA it was not given"
assert_contains "$ST_TMP/badca-kjs.txt" "^auth-error .*(certificate|self.signed)" \
    "kafkajs with the wrong CA: the certificate is refused"
log "with another CA: librdkafka \"$(cut -d: -f2- "$ST_TMP/badca-rk.txt" | cut -c1-150)\"; kafkajs \"$(cut -c1-150 "$ST_TMP/badca-kjs.txt")\""

# The protocol by hand on the SASL_PLAINTEXT listener.
rk raw "$SASL_PLAINTEXT_PORT" "$USER_NAME" "$PASSWORD" >"$ST_TMP/raw.txt" 2>"$ST_TMP/raw.err" || {
    cat "$ST_TMP/raw.txt" "$ST_TMP/raw.err" >&2
    fail "raw SASL protocol checks"
}
sed 's/^/    /' "$ST_TMP/raw.txt"
# The close without an answer is explained in the broker log, for that connection.
broker_log_since_start >"$ST_TMP/raw.log"
addr=$(awk '$2 == "metadata-before-auth" {print $3}' "$ST_TMP/raw.txt")
assert_contains "$ST_TMP/raw.log" "${addr//./\\.}\\b.*Metadata.*(ILLEGAL_SASL_STATE|authenticat)" \
    "the broker log says why $addr (Metadata before authenticating) was closed"
for mech in $MECHS; do
    assert_contains "$ST_TMP/raw.txt" "^enabled-mechanisms .*\\b$mech(,|$)" "SaslHandshake GSSAPI lists $mech as enabled"
done

# Wrong passwords: every mechanism, both clients, and each client over TLS once. What
# they report must carry the message the broker put on the wire (raw.txt).
wire_message() { sed -n "s/^wire-message $1 //p" "$ST_TMP/raw.txt"; }
for mech in $MECHS; do
    [ -n "$(wire_message "$mech")" ] || fail "the raw client recorded no error message for $mech"
done
badauth_case() { # CLIENT PROTOCOL MECH
    local client=$1 proto=$2 mech=$3 out="$ST_TMP/bad-$1-$2-$3.txt"
    local port
    port=$(port_of "$proto")
    if [ "$client" = rk ]; then
        rk badauth "127.0.0.1:$port" "$proto" "$mech" "$USER_NAME" "$WRONG_PASSWORD" "$TLS/ca.pem" \
            >"$out" 2>"$out.err" || { cat "$out" "$out.err" >&2; fail "librdkafka $proto $mech with a wrong password"; }
        # librdkafka (2.0.2) reports _AUTHENTICATION with the broker's error_message, not
        # the code: the raw client proved the code is 58 and recorded the message
        assert_contains "$out" "^auth-error _AUTHENTICATION: .*SASL authentication error: " \
            "librdkafka $proto $mech with a wrong password: an authentication error"
        grep -qF -- "$(wire_message "$mech")" "$out" ||
            fail "librdkafka $proto $mech: \"$(cat "$out")\" lacks the broker's message \"$(wire_message "$mech")\""
    else
        kjs badauth "127.0.0.1:$port" "$proto" "$(echo "$mech" | tr 'A-Z' 'a-z')" "$USER_NAME" "$WRONG_PASSWORD" \
            "$TLS/ca.pem" >"$out" 2>"$out.err" || { cat "$out" "$out.err" >&2; fail "kafkajs $proto $mech with a wrong password"; }
        # kafkajs puts error_message into its error only for code 58 (else the code's
        # generic text), so the broker's message here also proves the code
        assert_contains "$out" "^auth-error KafkaJSSASLAuthenticationError: " \
            "kafkajs $proto $mech with a wrong password: a SASL authentication error"
        grep -qF -- "$(wire_message "$mech")" "$out" ||
            fail "kafkajs $proto $mech: \"$(cat "$out")\" lacks the broker's message \"$(wire_message "$mech")\""
    fi
    log "wrong password, $client $proto $mech: $(cut -c1-220 "$out")"
}
for mech in $MECHS; do
    badauth_case rk sasl_plaintext "$mech"
    badauth_case kjs sasl_plaintext "$mech"
done
badauth_case rk sasl_ssl SCRAM-SHA-512
badauth_case kjs sasl_ssl PLAIN

broker_log_since_start >"$ST_TMP/phase1.log"
assert_contains "$ST_TMP/phase1.log" "127\.0\.0\.1:[0-9]+.*$USER_NAME|$USER_NAME.*127\.0\.0\.1:[0-9]+" \
    "the broker logs failed logins with the peer address and the user"
stop_broker

# ---- phase 2: restart with failed_auth_delay_ms = 100 (and no failure history) ----
start_sasl_broker 100
rk roundtrip "127.0.0.1:$SASL_SSL_PORT" sasl_ssl SCRAM-SHA-512 "$USER_NAME" "$PASSWORD" "$TLS/ca.pem" \
    acme.after-restart 20 >"$ST_TMP/restart.out" 2>"$ST_TMP/restart.err" || {
    cat "$ST_TMP/restart.err" >&2
    fail "SCRAM-SHA-512 over SASL_SSL after a restart: the stored credential no longer works"
}
log "after restart: $(cat "$ST_TMP/restart.out")"

rk delays "$SASL_PLAINTEXT_PORT" "$USER_NAME" 5 >"$ST_TMP/delays.txt" 2>"$ST_TMP/delays.err" || {
    cat "$ST_TMP/delays.txt" "$ST_TMP/delays.err" >&2
    fail "consecutive wrong passwords"
}
sed 's/^/    /' "$ST_TMP/delays.txt"
broker_log_since_start >"$ST_TMP/phase2.log"
for addr in $(awk '$1 == "attempt" {print $3}' "$ST_TMP/delays.txt"); do
    assert_contains "$ST_TMP/phase2.log" "${addr//./\\.}\\b" "the broker log names the failed login from $addr"
done
stop_broker

# No password anywhere it should not be: the log, and the credential store.
for pw in "$PASSWORD" "$WRONG_PASSWORD" definitely-not-the-password; do
    ! grep -qF -- "$pw" "$ST_LOG" || fail "the broker log contains a password (\"$pw\")"
done
CREDS="$ST_DATA/meta/credentials.json"
[ -s "$CREDS" ] || fail "no credential store at $CREDS"
grep -qF -- "$PASSWORD" "$CREDS" && fail "$CREDS contains alice's password in clear"
grep -qF -- "$(printf '%s' "$PASSWORD" | base64 -w0)" "$CREDS" && fail "$CREDS contains alice's password in base64"

# SaltedPassword = PBKDF2-HMAC(password, salt, iterations) with each stored salt; proved
# right by rebuilding StoredKey and ServerKey from it, then searched for in the file.
PASSWORD="$PASSWORD" "$NODE" -e '
const fs = require("fs"), crypto = require("crypto");
const [file, user] = process.argv.slice(1);
const doc = JSON.parse(fs.readFileSync(file, "utf8"));
const mine = (doc.credentials || []).filter((c) => c.user === user);
const mechs = mine.map((c) => c.mechanism).sort().join(",");
if (mechs !== "SCRAM-SHA-256,SCRAM-SHA-512") {
  console.error(`credentials of ${user}: ${mechs || "none"}, expected SCRAM-SHA-256,SCRAM-SHA-512`);
  process.exit(1);
}
for (const c of mine) {
  const digest = c.mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
  const salted = crypto.pbkdf2Sync(process.env.PASSWORD, Buffer.from(c.salt, "base64"),
                                   c.iterations, digest === "sha256" ? 32 : 64, digest);
  const hmac = (k, s) => crypto.createHmac(digest, k).update(s).digest();
  const stored = crypto.createHash(digest).update(hmac(salted, "Client Key")).digest("base64");
  const server = hmac(salted, "Server Key").toString("base64");
  if (stored !== c.stored_key || server !== c.server_key) {
    console.error(`${c.mechanism}: stored_key/server_key do not derive from the password`);
    process.exit(1);
  }
  console.log(`${c.mechanism} ${c.iterations} ${salted.toString("base64")} ${salted.toString("hex")}`);
}' "$CREDS" "$USER_NAME" >"$ST_TMP/salted.txt" || fail "the credentials of $USER_NAME in $CREDS do not check out"
while read -r mech iterations b64 hex; do
    grep -qF -- "$b64" "$CREDS" && fail "$CREDS contains the $mech SaltedPassword in base64"
    grep -qiF -- "$hex" "$CREDS" && fail "$CREDS contains the $mech SaltedPassword in hex"
    # base64 without its padding too
    grep -qF -- "${b64%%=*}" "$CREDS" && fail "$CREDS contains the $mech SaltedPassword in unpadded base64"
    log "$CREDS: $mech ($iterations iterations) StoredKey/ServerKey derive from the password; no SaltedPassword, no password"
done <"$ST_TMP/salted.txt"
assert_eq 2 "$(wc -l <"$ST_TMP/salted.txt")" "SCRAM credentials checked"
