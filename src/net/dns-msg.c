/* DNS message parsing and building (see dns-msg.h). */
#include "net/dns-msg.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dns_header_parse(const uint8_t *msg, size_t len, struct dns_header *h)
{
        if (len < DNS_HEADER_SIZE)
                return -EBADMSG;
        h->id = get16(msg);
        h->flags = get16(msg + 2);
        h->qdcount = get16(msg + 4);
        h->ancount = get16(msg + 6);
        h->nscount = get16(msg + 8);
        h->arcount = get16(msg + 10);
        return 0;
}

/* Text output that refuses to overflow. */
struct tbuf {
        char *p;
        size_t len, size;
        bool full;
};

static void tbuf_putc(struct tbuf *t, char c)
{
        if (t->p == NULL)
                return;
        if (t->len + 1 >= t->size) {
                t->full = true;
                return;
        }
        t->p[t->len++] = c;
        t->p[t->len] = '\0';
}

static void text_label(struct tbuf *t, const uint8_t *label, size_t n)
{
        if (t->len > 0)
                tbuf_putc(t, '.');
        for (size_t i = 0; i < n; i++) {
                uint8_t c = label[i];
                if (c == '.' || c == '\\') {
                        tbuf_putc(t, '\\');
                        tbuf_putc(t, (char)c);
                } else if (c < 0x21 || c > 0x7e) {
                        char esc[5];
                        snprintf(esc, sizeof(esc), "\\%03u", c);
                        for (size_t k = 0; k < 4; k++)
                                tbuf_putc(t, esc[k]);
                } else {
                        tbuf_putc(t, (char)c);
                }
        }
}

int dns_name_decode(const uint8_t *msg, size_t len, size_t *off, char *text, size_t text_size,
                    uint8_t *wire, size_t *wire_len)
{
        struct tbuf t = { .p = text, .size = text_size };
        size_t pos = *off, segment = *off, wlen = 0, end = 0;
        unsigned pointers = 0;

        if (text && text_size > 0)
                text[0] = '\0';
        for (;;) {
                if (pos >= len)
                        return -EBADMSG;
                uint8_t l = msg[pos];
                if ((l & 0xc0) == 0xc0) {
                        if (pos + 1 >= len || ++pointers > DNS_MAX_POINTERS)
                                return -EBADMSG;
                        size_t target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
                        /* Strictly before the segment that led here: each jump
                         * goes lower, so a chain cannot loop. */
                        if (target < DNS_HEADER_SIZE || target >= segment)
                                return -EBADMSG;
                        if (end == 0)
                                end = pos + 2;
                        pos = segment = target;
                        continue;
                }
                if (l & 0xc0) /* 0x40 and 0x80: extended label types, obsolete */
                        return -EBADMSG;
                if (wlen + 1 + l > DNS_NAME_WIRE_MAX || pos + 1 + l > len)
                        return -EBADMSG;
                if (wire)
                        memcpy(wire + wlen, msg + pos, 1 + (size_t)l);
                wlen += 1 + (size_t)l;
                if (l == 0)
                        break;
                text_label(&t, msg + pos + 1, l);
                pos += 1 + (size_t)l;
        }
        if (t.len == 0)
                tbuf_putc(&t, '.');
        if (t.full || (text && text_size == 0))
                return -ENOSPC;
        *off = end ? end : pos + 1;
        if (wire_len)
                *wire_len = wlen;
        return 0;
}

/* One character of a label in text form, with its escape; the number of
 * characters it took, or -EINVAL. */
static int text_char(const char *s, uint8_t *c)
{
        if (s[0] != '\\') {
                *c = (uint8_t)s[0];
                return 1;
        }
        if (s[1] >= '0' && s[1] <= '9') {
                if (!(s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'))
                        return -EINVAL;
                int v = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
                if (v > 255)
                        return -EINVAL;
                *c = (uint8_t)v;
                return 4;
        }
        if (s[1] == '\0')
                return -EINVAL;
        *c = (uint8_t)s[1];
        return 2;
}

int dns_name_encode(const char *text, uint8_t *wire, size_t size)
{
        size_t w = 0;
        const char *s = text;

        if (strcmp(s, ".") == 0)
                s++;
        while (*s) {
                size_t lpos = w++;
                size_t l = 0;
                while (*s && *s != '.') {
                        uint8_t c;
                        int k = text_char(s, &c);
                        if (k < 0)
                                return k;
                        if (++l > 63 || w + 1 > DNS_NAME_WIRE_MAX - 1)
                                return -EINVAL;
                        if (w < size)
                                wire[w] = c;
                        w++;
                        s += k;
                }
                if (l == 0)
                        return -EINVAL;
                if (lpos < size)
                        wire[lpos] = (uint8_t)l;
                if (*s == '.')
                        s++;
        }
        if (w >= size)
                return -ENOSPC;
        wire[w++] = 0;
        return (int)w;
}

static size_t text_len_sans_dot(const char *s)
{
        size_t n = strlen(s), bs = 0;

        if (n == 0 || s[n - 1] != '.')
                return n;
        while (bs + 1 < n && s[n - 2 - bs] == '\\')
                bs++;
        return bs % 2 == 0 ? n - 1 : n; /* "a\." ends in a label's dot */
}

static char ascii_lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool dns_name_equal(const char *a, const char *b)
{
        size_t na = text_len_sans_dot(a), nb = text_len_sans_dot(b);

        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (ascii_lower(a[i]) != ascii_lower(b[i]))
                        return false;
        return true;
}

int dns_question_parse(const uint8_t *msg, size_t len, size_t *off, struct dns_query *q)
{
        size_t pos = *off;

        if (dns_name_decode(msg, len, &pos, q->name, sizeof(q->name), q->wire, &q->wire_len) < 0)
                return -EBADMSG;
        if (pos + 4 > len)
                return -EBADMSG;
        q->qtype = get16(msg + pos);
        q->qclass = get16(msg + pos + 2);
        *off = pos + 4;
        return 0;
}

int dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct dns_rr *rr)
{
        size_t pos = *off;

        if (dns_name_decode(msg, len, &pos, rr->name, sizeof(rr->name), NULL, NULL) < 0)
                return -EBADMSG;
        if (pos + 10 > len)
                return -EBADMSG;
        rr->type = get16(msg + pos);
        rr->rclass = get16(msg + pos + 2);
        rr->ttl = get32(msg + pos + 4);
        rr->rdlen = get16(msg + pos + 8);
        rr->rdata = pos + 10;
        if (rr->rdata + rr->rdlen > len)
                return -EBADMSG;
        *off = rr->rdata + rr->rdlen;
        return 0;
}

/* An OPT record (RFC 6891): one at most, owned by the root. */
static int query_edns(struct dns_query *q, const struct dns_rr *rr)
{
        if (q->edns || strcmp(rr->name, ".") != 0)
                return -EBADMSG;
        q->edns = true;
        q->edns_udp_size = rr->rclass;
        q->edns_version = (uint8_t)(rr->ttl >> 16);
        q->edns_do = (rr->ttl & DNS_EDNS_DO) != 0;
        return 0;
}

static int query_records(const uint8_t *msg, size_t len, size_t off, struct dns_query *q)
{
        struct dns_rr rr;
        size_t skip = (size_t)q->h.ancount + q->h.nscount;

        for (size_t i = 0; i < skip; i++)
                if (dns_rr_parse(msg, len, &off, &rr) < 0)
                        return -EBADMSG;
        for (size_t i = 0; i < q->h.arcount; i++) {
                if (dns_rr_parse(msg, len, &off, &rr) < 0)
                        return -EBADMSG;
                if (rr.type == DNS_TYPE_OPT && query_edns(q, &rr) < 0)
                        return -EBADMSG;
        }
        return 0;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
        size_t off = DNS_HEADER_SIZE;

        q->has_question = false;
        q->edns = false;
        q->edns_do = false;
        q->edns_version = 0;
        q->edns_udp_size = 0;
        q->name[0] = '\0';
        q->wire_len = 0;
        if (dns_header_parse(msg, len, &q->h) < 0 || (q->h.flags & DNS_FLAG_QR))
                return -EBADMSG;
        if (DNS_OPCODE(q->h.flags) != 0)
                return DNS_RCODE_NOTIMP;
        if (q->h.qdcount != 1 || dns_question_parse(msg, len, &off, q) < 0)
                return DNS_RCODE_FORMERR;
        q->has_question = true;
        if (query_records(msg, len, off, q) < 0)
                return DNS_RCODE_FORMERR;
        if (q->edns && q->edns_version != 0)
                return DNS_RCODE_BADVERS;
        return 0;
}

size_t dns_query_udp_max(const struct dns_query *q)
{
        if (!q->edns || q->edns_udp_size <= DNS_UDP_MIN)
                return DNS_UDP_MIN;
        return q->edns_udp_size < DNS_UDP_EDNS_MAX ? q->edns_udp_size : DNS_UDP_EDNS_MAX;
}

/* Output that remembers whether anything failed to fit. */
struct wbuf {
        uint8_t *p;
        size_t len, max;
        bool full;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
        if (b->full || n > b->max - b->len) {
                b->full = true;
                return;
        }
        memcpy(b->p + b->len, d, n);
        b->len += n;
}

static void put16(struct wbuf *b, uint16_t v)
{
        uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
        put(b, x, 2);
}

static void put32(struct wbuf *b, uint32_t v)
{
        uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
        put(b, x, 4);
}

static void put_header(struct wbuf *b, const struct dns_header *h)
{
        put16(b, h->id);
        put16(b, h->flags);
        put16(b, h->qdcount);
        put16(b, h->ancount);
        put16(b, h->nscount);
        put16(b, h->arcount);
}

/* One answer owned by the question's name (a pointer to it: it sits right
 * after the header). */
static int put_answer(struct wbuf *b, const struct dns_answer *a, uint32_t ttl)
{
        uint8_t name[DNS_NAME_WIRE_MAX];
        int n;

        put16(b, 0xc000 | DNS_HEADER_SIZE);
        put16(b, a->type);
        put16(b, DNS_CLASS_IN);
        put32(b, ttl);
        switch (a->type) {
        case DNS_TYPE_A:
                put16(b, sizeof(a->a));
                put(b, &a->a, sizeof(a->a));
                return 0;
        case DNS_TYPE_AAAA:
                put16(b, sizeof(a->aaaa));
                put(b, &a->aaaa, sizeof(a->aaaa));
                return 0;
        case DNS_TYPE_PTR:
                n = dns_name_encode(a->ptr, name, sizeof(name));
                if (n < 0)
                        return n;
                put16(b, (uint16_t)n);
                put(b, name, (size_t)n);
                return 0;
        default:
                return -EINVAL;
        }
}

static void put_opt(struct wbuf *b, int rcode)
{
        uint8_t root = 0;

        put(b, &root, 1);
        put16(b, DNS_TYPE_OPT);
        put16(b, DNS_UDP_EDNS_MAX);
        put32(b, (uint32_t)(rcode >> 4) << 24); /* extended rcode, version 0, DO clear */
        put16(b, 0);
}

#define OPT_SIZE 11

static int put_answers(struct wbuf *b, struct dns_header *h, const struct dns_answer *answers, size_t n,
                       uint32_t ttl)
{
        for (size_t i = 0; i < n; i++) {
                size_t mark = b->len;
                int r = put_answer(b, &answers[i], ttl);
                if (r < 0)
                        return r;
                if (b->full || h->ancount == UINT16_MAX) {
                        b->len = mark;
                        b->full = false;
                        h->flags |= DNS_FLAG_TC;
                        break;
                }
                h->ancount++;
        }
        return 0;
}

int dns_response_build(const struct dns_query *q, int rcode, const struct dns_answer *answers, size_t n,
                       uint32_t ttl, uint8_t *out, size_t max)
{
        struct wbuf b = { .p = out, .max = max < DNS_MSG_MAX ? max : DNS_MSG_MAX };
        struct dns_header h = { .id = q->h.id };
        struct wbuf hb = { .p = out, .max = DNS_HEADER_SIZE };
        int r;

        if (rcode < 0 || rcode > 0xfff || (rcode > 0xf && !q->edns) || (n > 0 && !q->has_question))
                return -EINVAL;
        if (b.max < DNS_HEADER_SIZE + (q->edns ? OPT_SIZE : 0))
                return -ENOSPC;
        b.max -= q->edns ? OPT_SIZE : 0; /* the OPT record stays even when answers go */
        h.flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->h.flags & (0x7800 | DNS_FLAG_RD | DNS_FLAG_CD)) |
                  (uint16_t)(rcode & 0xf);
        put_header(&b, &h); /* again at the end, with the counts */
        if (q->has_question) {
                put(&b, q->wire, q->wire_len);
                put16(&b, q->qtype);
                put16(&b, q->qclass);
                h.qdcount = 1;
        }
        if (b.full)
                return -ENOSPC;
        r = put_answers(&b, &h, answers, n, ttl);
        if (r < 0)
                return r;
        b.max += q->edns ? OPT_SIZE : 0;
        if (q->edns) {
                put_opt(&b, rcode);
                h.arcount = 1;
        }
        if (b.full)
                return -ENOSPC;
        put_header(&hb, &h);
        return (int)b.len;
}

int dns_query_build(uint16_t id, const char *name, uint16_t qtype, uint16_t edns_udp_size, uint8_t *out,
                    size_t max)
{
        struct wbuf b = { .p = out, .max = max };
        struct dns_header h = { .id = id, .flags = DNS_FLAG_RD, .qdcount = 1, .arcount = edns_udp_size ? 1 : 0 };
        uint8_t wire[DNS_NAME_WIRE_MAX];
        int n = dns_name_encode(name, wire, sizeof(wire));

        if (n < 0)
                return n;
        put_header(&b, &h);
        put(&b, wire, (size_t)n);
        put16(&b, qtype);
        put16(&b, DNS_CLASS_IN);
        if (edns_udp_size) {
                uint8_t root = 0;
                put(&b, &root, 1);
                put16(&b, DNS_TYPE_OPT);
                put16(&b, edns_udp_size);
                put32(&b, 0);
                put16(&b, 0);
        }
        return b.full ? -ENOSPC : (int)b.len;
}
