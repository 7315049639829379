/* libnftables: Berth's packet filtering (src/net/nft.c); lazy.h says how
 * a line reads.  Add a function: one line. */
LAZY_FN(struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))
LAZY_VOID(nft_ctx_free, (struct nft_ctx *ctx), (ctx))
LAZY_FN(int, nft_ctx_buffer_output, (struct nft_ctx *ctx), (ctx))
LAZY_FN(int, nft_ctx_buffer_error, (struct nft_ctx *ctx), (ctx))
LAZY_FN(const char *, nft_ctx_get_output_buffer, (struct nft_ctx *ctx), (ctx))
LAZY_FN(const char *, nft_ctx_get_error_buffer, (struct nft_ctx *ctx), (ctx))
LAZY_FN(int, nft_run_cmd_from_buffer, (struct nft_ctx *nft, const char *buf), (nft, buf))
LAZY_VOID(nft_ctx_set_dry_run, (struct nft_ctx *ctx, bool dry), (ctx, dry))
