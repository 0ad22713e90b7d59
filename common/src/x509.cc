// The store PKI on OpenSSL 3. Everything OpenSSL allocates is held by a
// unique_ptr with its free function, so every early return cleans up.
#include "storenode/common/x509.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>
#include <utility>

#include "storenode/common/files.h"

namespace storenode::x509 {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using AsnTimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED, X509_REVOKED_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

// The reason OpenSSL gave last, with what we were doing.
Status OpenSslError(const std::string& what) {
  std::string msg = what;
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return Status::Invalid("x509: " + msg);
}

Result<PKeyPtr> NewKey(KeyType type) {
  EVP_PKEY* k = type == KeyType::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                          : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (k == nullptr) return OpenSslError("key generation failed");
  return PKeyPtr(k);
}

// Ed25519 signs the message itself (no separate digest).
const EVP_MD* DigestFor(EVP_PKEY* key) {
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

Result<std::string> BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0) return OpenSslError("cannot read memory BIO");
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PKCS#8, unencrypted: the file mode (0600) protects it, and the daemons
  // must start unattended.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return OpenSslError("cannot write key PEM");
  return BioString(bio.get());
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("cannot write PEM");
  return BioString(bio.get());
}

Result<X509Ptr> ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* x = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (x == nullptr) return OpenSslError("not a PEM certificate");
  return X509Ptr(x);
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 128 random bits, top bit clear so the DER integer stays positive and
// within RFC 5280's 20 octets.
Result<AsnIntPtr> RandomSerial() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return OpenSslError("RAND_bytes failed");
  raw[0] &= 0x7f;
  raw[0] |= 0x01 << 6;  // never a short serial with leading zeros
  BnPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
  AsnIntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial) return OpenSslError("cannot make a serial number");
  return serial;
}

bool LooksLikeIp(const std::string& host) {
  return !host.empty() && (host.find(':') != std::string::npos ||
                           host.find_first_not_of("0123456789.") == std::string::npos);
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("cannot add extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::Ok();
}

// Builds and signs a certificate for `key`. `issuer`/`issuer_key` are null
// for the self-signed CA.
Result<X509Ptr> BuildCert(const CertRequest& r, bool ca, EVP_PKEY* key, X509* issuer,
                          EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslError("X509_new");
  SN_ASSIGN_OR_RETURN(AsnIntPtr serial, RandomSerial());
  if (X509_set_serialNumber(cert.get(), serial.get()) != 1) return OpenSslError("serial");
  // Back-dated a little: a till whose clock is a few minutes behind the
  // server's must still accept a certificate issued just now.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), r.days, 0, nullptr) == nullptr) {
    return OpenSslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(r.common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return OpenSslError("subject name");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key : key;
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("issuer or public key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  if (ca) {
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    SN_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage,
                                    !r.server      ? "clientAuth"
                                    : r.client_too ? "serverAuth,clientAuth"
                                                   : "serverAuth"));
  }
  SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (!ca) {
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid"));
  }
  if (!r.hosts.empty()) {
    std::string san;
    for (const std::string& h : r.hosts) {
      if (!san.empty()) san += ",";
      san += (LooksLikeIp(h) ? "IP:" : "DNS:") + h;
    }
    SN_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, san));
  }
  if (X509_sign(cert.get(), signer_key, DigestFor(signer_key)) <= 0) {
    return OpenSslError("cannot sign the certificate of " + r.common_name);
  }
  return cert;
}

}  // namespace

Result<KeyType> ParseKeyType(const std::string& name) {
  if (name == "ec" || name == "ec-p256" || name == "p256") return KeyType::kEcP256;
  if (name == "ed25519") return KeyType::kEd25519;
  return Status::Invalid("unknown key type '" + name + "' (want ec or ed25519)");
}

const char* KeyTypeName(KeyType type) { return type == KeyType::kEd25519 ? "ed25519" : "ec"; }

struct Authority::Handles {
  PKeyPtr key;
  X509Ptr cert;
};

Authority::Authority(std::unique_ptr<Handles> h, std::string cert_pem, std::string key_pem)
    : h_(std::move(h)), cert_pem_(std::move(cert_pem)), key_pem_(std::move(key_pem)) {}
Authority::Authority(Authority&&) noexcept = default;
Authority& Authority::operator=(Authority&&) noexcept = default;
Authority::~Authority() = default;

Result<Authority> Authority::Create(const std::string& common_name, KeyType type, int days) {
  auto h = std::make_unique<Handles>();
  SN_ASSIGN_OR_RETURN(h->key, NewKey(type));
  CertRequest r;
  r.common_name = common_name;
  r.days = days;
  SN_ASSIGN_OR_RETURN(h->cert, BuildCert(r, /*ca=*/true, h->key.get(), nullptr, nullptr));
  SN_ASSIGN_OR_RETURN(std::string cert_pem, CertPem(h->cert.get()));
  SN_ASSIGN_OR_RETURN(std::string key_pem, KeyPem(h->key.get()));
  return Authority(std::move(h), std::move(cert_pem), std::move(key_pem));
}

Result<Authority> Authority::FromPem(const std::string& cert_pem, const std::string& key_pem) {
  auto h = std::make_unique<Handles>();
  SN_ASSIGN_OR_RETURN(h->cert, ParseCert(cert_pem));
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (k == nullptr) return OpenSslError("CA key is not a PEM private key");
  h->key.reset(k);
  if (X509_check_private_key(h->cert.get(), h->key.get()) != 1) {
    return OpenSslError("CA key does not belong to the CA certificate");
  }
  return Authority(std::move(h), cert_pem, key_pem);
}

Result<Issued> Authority::Issue(const CertRequest& request) const {
  SN_ASSIGN_OR_RETURN(PKeyPtr key, NewKey(request.key_type));
  SN_ASSIGN_OR_RETURN(X509Ptr cert,
                      BuildCert(request, /*ca=*/false, key.get(), h_->cert.get(), h_->key.get()));
  Issued out;
  SN_ASSIGN_OR_RETURN(out.key_pem, KeyPem(key.get()));
  SN_ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert.get()));
  out.serial_hex = SerialHex(X509_get0_serialNumber(cert.get()));
  return out;
}

Result<std::string> Authority::RevocationList(const std::vector<RevokedCert>& revoked,
                                              uint64_t number) const {
  CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(h_->cert.get())) != 1) {
    return OpenSslError("X509_CRL_new");
  }
  AsnTimePtr now(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, -3600));
  if (!now || X509_CRL_set1_lastUpdate(crl.get(), now.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), X509_get0_notAfter(h_->cert.get())) != 1) {
    return OpenSslError("CRL validity");
  }
  for (const RevokedCert& r : revoked) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, r.serial_hex.c_str()) == 0) {
      return Status::Invalid("x509: bad serial '" + r.serial_hex + "'");
    }
    BnPtr bn(raw);
    AsnIntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    AsnTimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(r.revoked_at_s)));
    RevokedPtr entry(X509_REVOKED_new());
    if (!serial || !when || !entry ||
        X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
      return OpenSslError("CRL entry " + r.serial_hex);
    }
    (void)entry.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  BnPtr n(BN_new());
  if (!n || BN_set_word(n.get(), number) != 1) return OpenSslError("CRL number");
  AsnIntPtr crl_number(BN_to_ASN1_INTEGER(n.get(), nullptr));
  if (!crl_number || X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) != 1)
    return OpenSslError("CRL number");
  if (X509_CRL_sign(crl.get(), h_->key.get(), DigestFor(h_->key.get())) <= 0) {
    return OpenSslError("cannot sign the CRL");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) return OpenSslError("CRL PEM");
  return BioString(bio.get());
}

Result<std::string> CommonNameOfFile(const std::string& cert_path) {
  SN_ASSIGN_OR_RETURN(std::string pem, files::Read(cert_path));
  auto cert = ParseCert(pem);
  if (!cert.ok()) return Status::Invalid(cert_path + ": " + cert.status().message());
  X509_NAME* name = X509_get_subject_name(cert->get());
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return Status::Invalid(cert_path + ": certificate has no Common Name");
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (n < 0) return OpenSslError(cert_path + ": unreadable Common Name");
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

Result<int64_t> NotAfterOfFile(const std::string& cert_path) {
  SN_ASSIGN_OR_RETURN(std::string pem, files::Read(cert_path));
  auto cert = ParseCert(pem);
  if (!cert.ok()) return Status::Invalid(cert_path + ": " + cert.status().message());
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &tm) != 1) {
    return OpenSslError(cert_path + ": unreadable notAfter");
  }
  return static_cast<int64_t>(timegm(&tm));
}

Result<std::string> SerialOf(const std::string& cert_pem) {
  SN_ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  return SerialHex(X509_get0_serialNumber(cert.get()));
}

}  // namespace storenode::x509
