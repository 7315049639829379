/* libcrypto: sha256/sha512 digests of image content and base64 (registry
 * auth, docker cp's stat header); lazy.h says how a line reads.  Add a
 * function: one line, and only a real symbol: many OpenSSL names are
 * macros (EVP_MD_CTX_create, OPENSSL_free, EVP_MD_size in 3.x, ...);
 * stub what they expand to. */
LAZY_FN(int, EVP_DecodeFinal, (EVP_ENCODE_CTX *ctx, unsigned char *out, int *outl), (ctx, out, outl))
LAZY_VOID(EVP_DecodeInit, (EVP_ENCODE_CTX *ctx), (ctx))
LAZY_FN(int, EVP_DecodeUpdate, (EVP_ENCODE_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl), (ctx, out, outl, in, inl))
LAZY_FN(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s), (ctx, md, s))
LAZY_FN(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl))
LAZY_FN(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt))
LAZY_VOID(EVP_ENCODE_CTX_free, (EVP_ENCODE_CTX *ctx), (ctx))
LAZY_FN(EVP_ENCODE_CTX *, EVP_ENCODE_CTX_new, (void), ())
LAZY_FN(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))
LAZY_VOID(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx))
LAZY_FN(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZY_FN(const EVP_MD *, EVP_sha256, (void), ())
LAZY_FN(const EVP_MD *, EVP_sha512, (void), ())
