#!/usr/bin/env bash
# Makes the certificates of the client's TLS tests (shared case 36) in DIR, with the openssl
# command-line tool:
#   ca.pem                a test CA, the only one the tests trust
#   ca-dir/               the same CA as a hashed directory (openssl rehash)
#   good.pem/.key         from the CA, subjectAltName DNS:good.test
#   other.pem/.key        from the CA, DNS:other.test
#   expired.pem/.key      from the CA, DNS:good.test, valid only on 1-2 January 2020
#   ip.pem/.key           from the CA, IP:127.0.0.1 and IP:::1
#   rogue.pem/.key        self-signed, DNS:good.test: right name, untrusted issuer
# Usage: make_certs.sh DIR. Keys are P-256, so the whole run takes well under a second.
set -euo pipefail

dir=$1
mkdir -p "$dir"
cd "$dir"

key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
}

key ca
openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=switchboard-test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
mkdir -p ca-dir
cp ca.pem ca-dir/
openssl rehash ca-dir

# `openssl ca` is the tool that takes explicit validity dates, which the expired certificate
# needs; every leaf goes through it so that all of them are made the same way.
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
EOF

# leaf NAME SAN [openssl ca validity options...]
leaf() {
    local name=$1 san=$2
    shift 2
    key "$name"
    openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$name"
    SAN=$san openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key \
        -extensions leaf -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
}

leaf good DNS:good.test -days 2
leaf other DNS:other.test -days 2
leaf expired DNS:good.test -startdate 20200101000000Z -enddate 20200102000000Z
leaf ip IP:127.0.0.1,IP:::1 -days 2

key rogue
openssl req -x509 -new -key rogue.key -out rogue.pem -days 2 -subj /CN=good.test \
    -addext subjectAltName=DNS:good.test
