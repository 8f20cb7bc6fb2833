# TLS material for the integration tests, generated at test time with the openssl CLI
# (nothing secret is checked in). Source after lib.sh:
#
#   . "$(dirname "$0")/certs.sh"
#   certs_make "$ST_TMP/tls"
#
# certs_make DIR writes, into DIR (created):
#   ca.key, ca.pem          a self-signed CA (CA:TRUE, keyCertSign) valid for 2 days
#   server.key, server.pem  a server key and certificate signed by that CA, for
#                           IP:127.0.0.1 and DNS:localhost in subjectAltName (clients check
#                           the SAN, not the CN: librdkafka 2.x defaults to
#                           ssl.endpoint.identification.algorithm=https, Node always does)
# Keys are EC P-256: fast to generate, and every client here speaks ECDSA.
# It then checks the server certificate verifies against the CA, so a broken openssl
# invocation fails here, not as a confusing handshake error later.

certs_make() {
    local dir=$1
    mkdir -p "$dir"
    local ossl_log="$dir/openssl.log"
    {
        openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" &&
            openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 2 \
                -subj "/CN=strait-test-ca" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -out "$dir/ca.pem" &&
            openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key.ec" &&
            # PKCS#8 ("BEGIN PRIVATE KEY"): the form every TLS library loads
            openssl pkcs8 -topk8 -nocrypt -in "$dir/server.key.ec" -out "$dir/server.key" &&
            openssl req -new -key "$dir/server.key" -subj "/CN=localhost" -out "$dir/server.csr" &&
            printf '%s\n' \
                "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" \
                "extendedKeyUsage=serverAuth" \
                "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/server.ext" &&
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
                -CAcreateserial -days 2 -sha256 -extfile "$dir/server.ext" \
                -out "$dir/server.pem" &&
            openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem"
    } >"$ossl_log" 2>&1 || {
        cat "$ossl_log" >&2
        fail "certs_make: openssl could not generate the test CA and server certificate in $dir"
    }
    rm -f "$dir/server.key.ec" "$dir/server.csr"
    chmod 600 "$dir/ca.key" "$dir/server.key"
}

# certs_check_san DIR: the server certificate names 127.0.0.1 and localhost (a guard
# against an openssl that silently dropped the extension file).
certs_check_san() {
    local text
    text=$(openssl x509 -in "$1/server.pem" -noout -ext subjectAltName 2>&1) ||
        fail "certs_check_san: cannot read $1/server.pem: $text"
    [[ "$text" == *"IP Address:127.0.0.1"* && "$text" == *"DNS:localhost"* ]] ||
        fail "certs_check_san: $1/server.pem lacks IP:127.0.0.1 / DNS:localhost in subjectAltName: $text"
}
