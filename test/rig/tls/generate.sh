#!/bin/sh
# Regenerates the TEST-ONLY TLS material of the offline test rig. See README.md.
# Run from this folder: sh generate.sh (needs the openssl CLI, 1.1.1 or 3.x).
set -eu
DAYS=18262 # 50 years: the rig must not start failing because a committed file expired.

cat > leaf.ext <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt
[alt]
DNS.1 = localhost
DNS.2 = login.microsoftonline.com
DNS.3 = login.windows.net
DNS.4 = login.chinacloudapi.cn
DNS.5 = login.partner.microsoftonline.cn
DNS.6 = login.microsoftonline.us
DNS.7 = *.vault.azure.net
DNS.8 = *.vault.azure.cn
DNS.9 = *.vault.usgovcloudapi.net
DNS.10 = *.blob.core.windows.net
DNS.11 = *.blob.core.chinacloudapi.cn
DNS.12 = *.blob.core.usgovcloudapi.net
DNS.13 = management.azure.com
DNS.14 = management.chinacloudapi.cn
DNS.15 = management.usgovcloudapi.net
DNS.16 = dev.azure.com
DNS.17 = *.visualstudio.com
DNS.18 = vstoken.dev.azure.com
DNS.19 = dl.k8s.io
DNS.20 = vvp.example.com
DNS.21 = *.example.com
IP.1 = 127.0.0.1
IP.2 = ::1
EXT

cat > client.ext <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EXT

# Test CA
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" \
  -subj "/O=VVP Tasks Test Rig/CN=VVP Tasks Test Rig CA (TEST ONLY, NOT TRUSTED ANYWHERE)" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca-key.pem -out ca.pem

# Server leaf for every routed host name, signed by the test CA
openssl req -new -newkey rsa:2048 -nodes -sha256 \
  -subj "/O=VVP Tasks Test Rig/CN=vvp-tasks-test-rig-leaf" \
  -keyout leaf-key.pem -out leaf.csr
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
  -days "$DAYS" -sha256 -extfile leaf.ext -out leaf.pem

# Self-signed client certificate for the Entra ID certificate credential (app registration style)
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" \
  -subj "/CN=vvp-tasks-test-rig-spn" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=clientAuth" \
  -keyout client-key.pem -out client-cert.pem

# The AzureRM service connection's servicePrincipalCertificate format: certificate and key in one PEM
cat client-cert.pem client-key.pem > client-cert-and-key.pem

rm -f leaf.csr leaf.ext client.ext ca.srl
