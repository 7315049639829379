/* Docker's word processing: the shell lexer of BuildKit's dockerfile
 * frontend (frontend/dockerfile/shell/lex.go), reimplemented from its
 * documented and observed behaviour.
 *
 * Outside quotes the escape character takes the next character literally
 * (and is dropped at the end of the word); '...' is literal; "..." expands
 * variables and lets the escape character quote '"', '$' and itself only.
 * $NAME, ${NAME} and the modifiers :- - :+ + :? ? # ## % %% / // are
 * expanded; an unset variable is empty; a '$' that starts no name stays.
 * Names are Unicode letters, digits and '_' (as Go's unicode package
 * classes them), or one digit run, or one of the special parameters.
 *
 * Where this differs from BuildKit, on purpose:
 * - bytes that are not valid UTF-8 are kept as they are (Go's scanner
 *   turns them into U+FFFD);
 * - "${NAME" at the end of the word says "missing '}'" (BuildKit names an
 *   "unsupported modifier");
 * - nesting is limited to 512 levels and a pattern to 256 '*' (beyond that,
 *   an error rather than a deep recursion);
 * - in word splitting, the text before a nested "${X:-...}" is kept
 *   (BuildKit's shared buffer drops it: "a${X:-b}c" gives "bc" there). */
#include "build/dockerfile.h"
#include "util/util.h"
#include <stdint.h>
#include <string.h>

#define LEX_EOF (-1)
#define RUNE_ERROR 0xfffd
#define MAX_DEPTH 512
#define MAX_STARS 256
#define MAX_MEMO (1u << 22)

/* ---- UTF-8 and Go's unicode classes ---- */

/* Decode one rune as Go's utf8.DecodeRune does: anything invalid is
 * RUNE_ERROR of width 1. */
static int32_t utf8_decode(const char *p, size_t n, size_t *width)
{
        const unsigned char *s = (const unsigned char *)p;
        uint32_t c;
        size_t need, i;

        *width = 1;
        if (n == 0)
                return LEX_EOF;
        if (s[0] < 0x80)
                return s[0];
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                need = 1;
                c = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                need = 2;
                c = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                need = 3;
                c = s[0] & 0x07;
        } else {
                return RUNE_ERROR;
        }
        if (n < need + 1)
                return RUNE_ERROR;
        for (i = 1; i <= need; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return RUNE_ERROR;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((need == 2 && c < 0x800) || (need == 3 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff))
                return RUNE_ERROR;
        *width = need + 1;
        return (int32_t)c;
}

/* Unicode's letters (Lu, Ll, Lt, Lm, Lo) and decimal digits (Nd) above
 * ASCII, as ranges: Go's unicode.IsLetter and unicode.IsDigit. */
static const uint32_t letter_ranges[][2] = {
        {0xaa, 0xaa}, {0xb5, 0xb5}, {0xba, 0xba}, {0xc0, 0xd6}, {0xd8, 0xf6}, {0xf8, 0x2c1}, {0x2c6, 0x2d1},
        {0x2e0, 0x2e4}, {0x2ec, 0x2ec}, {0x2ee, 0x2ee}, {0x370, 0x374}, {0x376, 0x377}, {0x37a, 0x37d},
        {0x37f, 0x37f}, {0x386, 0x386}, {0x388, 0x38a}, {0x38c, 0x38c}, {0x38e, 0x3a1}, {0x3a3, 0x3f5},
        {0x3f7, 0x481}, {0x48a, 0x52f}, {0x531, 0x556}, {0x559, 0x559}, {0x560, 0x588}, {0x5d0, 0x5ea},
        {0x5ef, 0x5f2}, {0x620, 0x64a}, {0x66e, 0x66f}, {0x671, 0x6d3}, {0x6d5, 0x6d5}, {0x6e5, 0x6e6},
        {0x6ee, 0x6ef}, {0x6fa, 0x6fc}, {0x6ff, 0x6ff}, {0x710, 0x710}, {0x712, 0x72f}, {0x74d, 0x7a5},
        {0x7b1, 0x7b1}, {0x7ca, 0x7ea}, {0x7f4, 0x7f5}, {0x7fa, 0x7fa}, {0x800, 0x815}, {0x81a, 0x81a},
        {0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858}, {0x860, 0x86a}, {0x870, 0x887}, {0x889, 0x88e},
        {0x8a0, 0x8c9}, {0x904, 0x939}, {0x93d, 0x93d}, {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980},
        {0x985, 0x98c}, {0x98f, 0x990}, {0x993, 0x9a8}, {0x9aa, 0x9b0}, {0x9b2, 0x9b2}, {0x9b6, 0x9b9},
        {0x9bd, 0x9bd}, {0x9ce, 0x9ce}, {0x9dc, 0x9dd}, {0x9df, 0x9e1}, {0x9f0, 0x9f1}, {0x9fc, 0x9fc},
        {0xa05, 0xa0a}, {0xa0f, 0xa10}, {0xa13, 0xa28}, {0xa2a, 0xa30}, {0xa32, 0xa33}, {0xa35, 0xa36},
        {0xa38, 0xa39}, {0xa59, 0xa5c}, {0xa5e, 0xa5e}, {0xa72, 0xa74}, {0xa85, 0xa8d}, {0xa8f, 0xa91},
        {0xa93, 0xaa8}, {0xaaa, 0xab0}, {0xab2, 0xab3}, {0xab5, 0xab9}, {0xabd, 0xabd}, {0xad0, 0xad0},
        {0xae0, 0xae1}, {0xaf9, 0xaf9}, {0xb05, 0xb0c}, {0xb0f, 0xb10}, {0xb13, 0xb28}, {0xb2a, 0xb30},
        {0xb32, 0xb33}, {0xb35, 0xb39}, {0xb3d, 0xb3d}, {0xb5c, 0xb5d}, {0xb5f, 0xb61}, {0xb71, 0xb71},
        {0xb83, 0xb83}, {0xb85, 0xb8a}, {0xb8e, 0xb90}, {0xb92, 0xb95}, {0xb99, 0xb9a}, {0xb9c, 0xb9c},
        {0xb9e, 0xb9f}, {0xba3, 0xba4}, {0xba8, 0xbaa}, {0xbae, 0xbb9}, {0xbd0, 0xbd0}, {0xc05, 0xc0c},
        {0xc0e, 0xc10}, {0xc12, 0xc28}, {0xc2a, 0xc39}, {0xc3d, 0xc3d}, {0xc58, 0xc5a}, {0xc5d, 0xc5d},
        {0xc60, 0xc61}, {0xc80, 0xc80}, {0xc85, 0xc8c}, {0xc8e, 0xc90}, {0xc92, 0xca8}, {0xcaa, 0xcb3},
        {0xcb5, 0xcb9}, {0xcbd, 0xcbd}, {0xcdd, 0xcde}, {0xce0, 0xce1}, {0xcf1, 0xcf2}, {0xd04, 0xd0c},
        {0xd0e, 0xd10}, {0xd12, 0xd3a}, {0xd3d, 0xd3d}, {0xd4e, 0xd4e}, {0xd54, 0xd56}, {0xd5f, 0xd61},
        {0xd7a, 0xd7f}, {0xd85, 0xd96}, {0xd9a, 0xdb1}, {0xdb3, 0xdbb}, {0xdbd, 0xdbd}, {0xdc0, 0xdc6},
        {0xe01, 0xe30}, {0xe32, 0xe33}, {0xe40, 0xe46}, {0xe81, 0xe82}, {0xe84, 0xe84}, {0xe86, 0xe8a},
        {0xe8c, 0xea3}, {0xea5, 0xea5}, {0xea7, 0xeb0}, {0xeb2, 0xeb3}, {0xebd, 0xebd}, {0xec0, 0xec4},
        {0xec6, 0xec6}, {0xedc, 0xedf}, {0xf00, 0xf00}, {0xf40, 0xf47}, {0xf49, 0xf6c}, {0xf88, 0xf8c},
        {0x1000, 0x102a}, {0x103f, 0x103f}, {0x1050, 0x1055}, {0x105a, 0x105d}, {0x1061, 0x1061},
        {0x1065, 0x1066}, {0x106e, 0x1070}, {0x1075, 0x1081}, {0x108e, 0x108e}, {0x10a0, 0x10c5},
        {0x10c7, 0x10c7}, {0x10cd, 0x10cd}, {0x10d0, 0x10fa}, {0x10fc, 0x1248}, {0x124a, 0x124d},
        {0x1250, 0x1256}, {0x1258, 0x1258}, {0x125a, 0x125d}, {0x1260, 0x1288}, {0x128a, 0x128d},
        {0x1290, 0x12b0}, {0x12b2, 0x12b5}, {0x12b8, 0x12be}, {0x12c0, 0x12c0}, {0x12c2, 0x12c5},
        {0x12c8, 0x12d6}, {0x12d8, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x135a}, {0x1380, 0x138f},
        {0x13a0, 0x13f5}, {0x13f8, 0x13fd}, {0x1401, 0x166c}, {0x166f, 0x167f}, {0x1681, 0x169a},
        {0x16a0, 0x16ea}, {0x16f1, 0x16f8}, {0x1700, 0x1711}, {0x171f, 0x1731}, {0x1740, 0x1751},
        {0x1760, 0x176c}, {0x176e, 0x1770}, {0x1780, 0x17b3}, {0x17d7, 0x17d7}, {0x17dc, 0x17dc},
        {0x1820, 0x1878}, {0x1880, 0x1884}, {0x1887, 0x18a8}, {0x18aa, 0x18aa}, {0x18b0, 0x18f5},
        {0x1900, 0x191e}, {0x1950, 0x196d}, {0x1970, 0x1974}, {0x1980, 0x19ab}, {0x19b0, 0x19c9},
        {0x1a00, 0x1a16}, {0x1a20, 0x1a54}, {0x1aa7, 0x1aa7}, {0x1b05, 0x1b33}, {0x1b45, 0x1b4c},
        {0x1b83, 0x1ba0}, {0x1bae, 0x1baf}, {0x1bba, 0x1be5}, {0x1c00, 0x1c23}, {0x1c4d, 0x1c4f},
        {0x1c5a, 0x1c7d}, {0x1c80, 0x1c88}, {0x1c90, 0x1cba}, {0x1cbd, 0x1cbf}, {0x1ce9, 0x1cec},
        {0x1cee, 0x1cf3}, {0x1cf5, 0x1cf6}, {0x1cfa, 0x1cfa}, {0x1d00, 0x1dbf}, {0x1e00, 0x1f15},
        {0x1f18, 0x1f1d}, {0x1f20, 0x1f45}, {0x1f48, 0x1f4d}, {0x1f50, 0x1f57}, {0x1f59, 0x1f59},
        {0x1f5b, 0x1f5b}, {0x1f5d, 0x1f5d}, {0x1f5f, 0x1f7d}, {0x1f80, 0x1fb4}, {0x1fb6, 0x1fbc},
        {0x1fbe, 0x1fbe}, {0x1fc2, 0x1fc4}, {0x1fc6, 0x1fcc}, {0x1fd0, 0x1fd3}, {0x1fd6, 0x1fdb},
        {0x1fe0, 0x1fec}, {0x1ff2, 0x1ff4}, {0x1ff6, 0x1ffc}, {0x2071, 0x2071}, {0x207f, 0x207f},
        {0x2090, 0x209c}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210a, 0x2113}, {0x2115, 0x2115},
        {0x2119, 0x211d}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212a, 0x212d},
        {0x212f, 0x2139}, {0x213c, 0x213f}, {0x2145, 0x2149}, {0x214e, 0x214e}, {0x2183, 0x2184},
        {0x2c00, 0x2ce4}, {0x2ceb, 0x2cee}, {0x2cf2, 0x2cf3}, {0x2d00, 0x2d25}, {0x2d27, 0x2d27},
        {0x2d2d, 0x2d2d}, {0x2d30, 0x2d67}, {0x2d6f, 0x2d6f}, {0x2d80, 0x2d96}, {0x2da0, 0x2da6},
        {0x2da8, 0x2dae}, {0x2db0, 0x2db6}, {0x2db8, 0x2dbe}, {0x2dc0, 0x2dc6}, {0x2dc8, 0x2dce},
        {0x2dd0, 0x2dd6}, {0x2dd8, 0x2dde}, {0x2e2f, 0x2e2f}, {0x3005, 0x3006}, {0x3031, 0x3035},
        {0x303b, 0x303c}, {0x3041, 0x3096}, {0x309d, 0x309f}, {0x30a1, 0x30fa}, {0x30fc, 0x30ff},
        {0x3105, 0x312f}, {0x3131, 0x318e}, {0x31a0, 0x31bf}, {0x31f0, 0x31ff}, {0x3400, 0x4dbf},
        {0x4e00, 0xa48c}, {0xa4d0, 0xa4fd}, {0xa500, 0xa60c}, {0xa610, 0xa61f}, {0xa62a, 0xa62b},
        {0xa640, 0xa66e}, {0xa67f, 0xa69d}, {0xa6a0, 0xa6e5}, {0xa717, 0xa71f}, {0xa722, 0xa788},
        {0xa78b, 0xa7ca}, {0xa7d0, 0xa7d1}, {0xa7d3, 0xa7d3}, {0xa7d5, 0xa7d9}, {0xa7f2, 0xa801},
        {0xa803, 0xa805}, {0xa807, 0xa80a}, {0xa80c, 0xa822}, {0xa840, 0xa873}, {0xa882, 0xa8b3},
        {0xa8f2, 0xa8f7}, {0xa8fb, 0xa8fb}, {0xa8fd, 0xa8fe}, {0xa90a, 0xa925}, {0xa930, 0xa946},
        {0xa960, 0xa97c}, {0xa984, 0xa9b2}, {0xa9cf, 0xa9cf}, {0xa9e0, 0xa9e4}, {0xa9e6, 0xa9ef},
        {0xa9fa, 0xa9fe}, {0xaa00, 0xaa28}, {0xaa40, 0xaa42}, {0xaa44, 0xaa4b}, {0xaa60, 0xaa76},
        {0xaa7a, 0xaa7a}, {0xaa7e, 0xaaaf}, {0xaab1, 0xaab1}, {0xaab5, 0xaab6}, {0xaab9, 0xaabd},
        {0xaac0, 0xaac0}, {0xaac2, 0xaac2}, {0xaadb, 0xaadd}, {0xaae0, 0xaaea}, {0xaaf2, 0xaaf4},
        {0xab01, 0xab06}, {0xab09, 0xab0e}, {0xab11, 0xab16}, {0xab20, 0xab26}, {0xab28, 0xab2e},
        {0xab30, 0xab5a}, {0xab5c, 0xab69}, {0xab70, 0xabe2}, {0xac00, 0xd7a3}, {0xd7b0, 0xd7c6},
        {0xd7cb, 0xd7fb}, {0xf900, 0xfa6d}, {0xfa70, 0xfad9}, {0xfb00, 0xfb06}, {0xfb13, 0xfb17},
        {0xfb1d, 0xfb1d}, {0xfb1f, 0xfb28}, {0xfb2a, 0xfb36}, {0xfb38, 0xfb3c}, {0xfb3e, 0xfb3e},
        {0xfb40, 0xfb41}, {0xfb43, 0xfb44}, {0xfb46, 0xfbb1}, {0xfbd3, 0xfd3d}, {0xfd50, 0xfd8f},
        {0xfd92, 0xfdc7}, {0xfdf0, 0xfdfb}, {0xfe70, 0xfe74}, {0xfe76, 0xfefc}, {0xff21, 0xff3a},
        {0xff41, 0xff5a}, {0xff66, 0xffbe}, {0xffc2, 0xffc7}, {0xffca, 0xffcf}, {0xffd2, 0xffd7},
        {0xffda, 0xffdc}, {0x10000, 0x1000b}, {0x1000d, 0x10026}, {0x10028, 0x1003a}, {0x1003c, 0x1003d},
        {0x1003f, 0x1004d}, {0x10050, 0x1005d}, {0x10080, 0x100fa}, {0x10280, 0x1029c}, {0x102a0, 0x102d0},
        {0x10300, 0x1031f}, {0x1032d, 0x10340}, {0x10342, 0x10349}, {0x10350, 0x10375}, {0x10380, 0x1039d},
        {0x103a0, 0x103c3}, {0x103c8, 0x103cf}, {0x10400, 0x1049d}, {0x104b0, 0x104d3}, {0x104d8, 0x104fb},
        {0x10500, 0x10527}, {0x10530, 0x10563}, {0x10570, 0x1057a}, {0x1057c, 0x1058a}, {0x1058c, 0x10592},
        {0x10594, 0x10595}, {0x10597, 0x105a1}, {0x105a3, 0x105b1}, {0x105b3, 0x105b9}, {0x105bb, 0x105bc},
        {0x10600, 0x10736}, {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785}, {0x10787, 0x107b0},
        {0x107b2, 0x107ba}, {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080a, 0x10835}, {0x10837, 0x10838},
        {0x1083c, 0x1083c}, {0x1083f, 0x10855}, {0x10860, 0x10876}, {0x10880, 0x1089e}, {0x108e0, 0x108f2},
        {0x108f4, 0x108f5}, {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109b7}, {0x109be, 0x109bf},
        {0x10a00, 0x10a00}, {0x10a10, 0x10a13}, {0x10a15, 0x10a17}, {0x10a19, 0x10a35}, {0x10a60, 0x10a7c},
        {0x10a80, 0x10a9c}, {0x10ac0, 0x10ac7}, {0x10ac9, 0x10ae4}, {0x10b00, 0x10b35}, {0x10b40, 0x10b55},
        {0x10b60, 0x10b72}, {0x10b80, 0x10b91}, {0x10c00, 0x10c48}, {0x10c80, 0x10cb2}, {0x10cc0, 0x10cf2},
        {0x10d00, 0x10d23}, {0x10e80, 0x10ea9}, {0x10eb0, 0x10eb1}, {0x10f00, 0x10f1c}, {0x10f27, 0x10f27},
        {0x10f30, 0x10f45}, {0x10f70, 0x10f81}, {0x10fb0, 0x10fc4}, {0x10fe0, 0x10ff6}, {0x11003, 0x11037},
        {0x11071, 0x11072}, {0x11075, 0x11075}, {0x11083, 0x110af}, {0x110d0, 0x110e8}, {0x11103, 0x11126},
        {0x11144, 0x11144}, {0x11147, 0x11147}, {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111b2},
        {0x111c1, 0x111c4}, {0x111da, 0x111da}, {0x111dc, 0x111dc}, {0x11200, 0x11211}, {0x11213, 0x1122b},
        {0x11280, 0x11286}, {0x11288, 0x11288}, {0x1128a, 0x1128d}, {0x1128f, 0x1129d}, {0x1129f, 0x112a8},
        {0x112b0, 0x112de}, {0x11305, 0x1130c}, {0x1130f, 0x11310}, {0x11313, 0x11328}, {0x1132a, 0x11330},
        {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133d, 0x1133d}, {0x11350, 0x11350}, {0x1135d, 0x11361},
        {0x11400, 0x11434}, {0x11447, 0x1144a}, {0x1145f, 0x11461}, {0x11480, 0x114af}, {0x114c4, 0x114c5},
        {0x114c7, 0x114c7}, {0x11580, 0x115ae}, {0x115d8, 0x115db}, {0x11600, 0x1162f}, {0x11644, 0x11644},
        {0x11680, 0x116aa}, {0x116b8, 0x116b8}, {0x11700, 0x1171a}, {0x11740, 0x11746}, {0x11800, 0x1182b},
        {0x118a0, 0x118df}, {0x118ff, 0x11906}, {0x11909, 0x11909}, {0x1190c, 0x11913}, {0x11915, 0x11916},
        {0x11918, 0x1192f}, {0x1193f, 0x1193f}, {0x11941, 0x11941}, {0x119a0, 0x119a7}, {0x119aa, 0x119d0},
        {0x119e1, 0x119e1}, {0x119e3, 0x119e3}, {0x11a00, 0x11a00}, {0x11a0b, 0x11a32}, {0x11a3a, 0x11a3a},
        {0x11a50, 0x11a50}, {0x11a5c, 0x11a89}, {0x11a9d, 0x11a9d}, {0x11ab0, 0x11af8}, {0x11c00, 0x11c08},
        {0x11c0a, 0x11c2e}, {0x11c40, 0x11c40}, {0x11c72, 0x11c8f}, {0x11d00, 0x11d06}, {0x11d08, 0x11d09},
        {0x11d0b, 0x11d30}, {0x11d46, 0x11d46}, {0x11d60, 0x11d65}, {0x11d67, 0x11d68}, {0x11d6a, 0x11d89},
        {0x11d98, 0x11d98}, {0x11ee0, 0x11ef2}, {0x11fb0, 0x11fb0}, {0x12000, 0x12399}, {0x12480, 0x12543},
        {0x12f90, 0x12ff0}, {0x13000, 0x1342e}, {0x14400, 0x14646}, {0x16800, 0x16a38}, {0x16a40, 0x16a5e},
        {0x16a70, 0x16abe}, {0x16ad0, 0x16aed}, {0x16b00, 0x16b2f}, {0x16b40, 0x16b43}, {0x16b63, 0x16b77},
        {0x16b7d, 0x16b8f}, {0x16e40, 0x16e7f}, {0x16f00, 0x16f4a}, {0x16f50, 0x16f50}, {0x16f93, 0x16f9f},
        {0x16fe0, 0x16fe1}, {0x16fe3, 0x16fe3}, {0x17000, 0x187f7}, {0x18800, 0x18cd5}, {0x18d00, 0x18d08},
        {0x1aff0, 0x1aff3}, {0x1aff5, 0x1affb}, {0x1affd, 0x1affe}, {0x1b000, 0x1b122}, {0x1b150, 0x1b152},
        {0x1b164, 0x1b167}, {0x1b170, 0x1b2fb}, {0x1bc00, 0x1bc6a}, {0x1bc70, 0x1bc7c}, {0x1bc80, 0x1bc88},
        {0x1bc90, 0x1bc99}, {0x1d400, 0x1d454}, {0x1d456, 0x1d49c}, {0x1d49e, 0x1d49f}, {0x1d4a2, 0x1d4a2},
        {0x1d4a5, 0x1d4a6}, {0x1d4a9, 0x1d4ac}, {0x1d4ae, 0x1d4b9}, {0x1d4bb, 0x1d4bb}, {0x1d4bd, 0x1d4c3},
        {0x1d4c5, 0x1d505}, {0x1d507, 0x1d50a}, {0x1d50d, 0x1d514}, {0x1d516, 0x1d51c}, {0x1d51e, 0x1d539},
        {0x1d53b, 0x1d53e}, {0x1d540, 0x1d544}, {0x1d546, 0x1d546}, {0x1d54a, 0x1d550}, {0x1d552, 0x1d6a5},
        {0x1d6a8, 0x1d6c0}, {0x1d6c2, 0x1d6da}, {0x1d6dc, 0x1d6fa}, {0x1d6fc, 0x1d714}, {0x1d716, 0x1d734},
        {0x1d736, 0x1d74e}, {0x1d750, 0x1d76e}, {0x1d770, 0x1d788}, {0x1d78a, 0x1d7a8}, {0x1d7aa, 0x1d7c2},
        {0x1d7c4, 0x1d7cb}, {0x1df00, 0x1df1e}, {0x1e100, 0x1e12c}, {0x1e137, 0x1e13d}, {0x1e14e, 0x1e14e},
        {0x1e290, 0x1e2ad}, {0x1e2c0, 0x1e2eb}, {0x1e7e0, 0x1e7e6}, {0x1e7e8, 0x1e7eb}, {0x1e7ed, 0x1e7ee},
        {0x1e7f0, 0x1e7fe}, {0x1e800, 0x1e8c4}, {0x1e900, 0x1e943}, {0x1e94b, 0x1e94b}, {0x1ee00, 0x1ee03},
        {0x1ee05, 0x1ee1f}, {0x1ee21, 0x1ee22}, {0x1ee24, 0x1ee24}, {0x1ee27, 0x1ee27}, {0x1ee29, 0x1ee32},
        {0x1ee34, 0x1ee37}, {0x1ee39, 0x1ee39}, {0x1ee3b, 0x1ee3b}, {0x1ee42, 0x1ee42}, {0x1ee47, 0x1ee47},
        {0x1ee49, 0x1ee49}, {0x1ee4b, 0x1ee4b}, {0x1ee4d, 0x1ee4f}, {0x1ee51, 0x1ee52}, {0x1ee54, 0x1ee54},
        {0x1ee57, 0x1ee57}, {0x1ee59, 0x1ee59}, {0x1ee5b, 0x1ee5b}, {0x1ee5d, 0x1ee5d}, {0x1ee5f, 0x1ee5f},
        {0x1ee61, 0x1ee62}, {0x1ee64, 0x1ee64}, {0x1ee67, 0x1ee6a}, {0x1ee6c, 0x1ee72}, {0x1ee74, 0x1ee77},
        {0x1ee79, 0x1ee7c}, {0x1ee7e, 0x1ee7e}, {0x1ee80, 0x1ee89}, {0x1ee8b, 0x1ee9b}, {0x1eea1, 0x1eea3},
        {0x1eea5, 0x1eea9}, {0x1eeab, 0x1eebb}, {0x20000, 0x2a6df}, {0x2a700, 0x2b738}, {0x2b740, 0x2b81d},
        {0x2b820, 0x2cea1}, {0x2ceb0, 0x2ebe0}, {0x2f800, 0x2fa1d}, {0x30000, 0x3134a},
};
static const uint32_t digit_ranges[][2] = {
        {0x660, 0x669}, {0x6f0, 0x6f9}, {0x7c0, 0x7c9}, {0x966, 0x96f}, {0x9e6, 0x9ef}, {0xa66, 0xa6f},
        {0xae6, 0xaef}, {0xb66, 0xb6f}, {0xbe6, 0xbef}, {0xc66, 0xc6f}, {0xce6, 0xcef}, {0xd66, 0xd6f},
        {0xde6, 0xdef}, {0xe50, 0xe59}, {0xed0, 0xed9}, {0xf20, 0xf29}, {0x1040, 0x1049}, {0x1090, 0x1099},
        {0x17e0, 0x17e9}, {0x1810, 0x1819}, {0x1946, 0x194f}, {0x19d0, 0x19d9}, {0x1a80, 0x1a89},
        {0x1a90, 0x1a99}, {0x1b50, 0x1b59}, {0x1bb0, 0x1bb9}, {0x1c40, 0x1c49}, {0x1c50, 0x1c59},
        {0xa620, 0xa629}, {0xa8d0, 0xa8d9}, {0xa900, 0xa909}, {0xa9d0, 0xa9d9}, {0xa9f0, 0xa9f9},
        {0xaa50, 0xaa59}, {0xabf0, 0xabf9}, {0xff10, 0xff19}, {0x104a0, 0x104a9}, {0x10d30, 0x10d39},
        {0x11066, 0x1106f}, {0x110f0, 0x110f9}, {0x11136, 0x1113f}, {0x111d0, 0x111d9}, {0x112f0, 0x112f9},
        {0x11450, 0x11459}, {0x114d0, 0x114d9}, {0x11650, 0x11659}, {0x116c0, 0x116c9}, {0x11730, 0x11739},
        {0x118e0, 0x118e9}, {0x11950, 0x11959}, {0x11c50, 0x11c59}, {0x11d50, 0x11d59}, {0x11da0, 0x11da9},
        {0x16a60, 0x16a69}, {0x16ac0, 0x16ac9}, {0x16b50, 0x16b59}, {0x1d7ce, 0x1d7ff}, {0x1e140, 0x1e149},
        {0x1e2f0, 0x1e2f9}, {0x1e950, 0x1e959}, {0x1fbf0, 0x1fbf9},
};

static bool in_ranges(const uint32_t (*r)[2], size_t n, int32_t c)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if ((uint32_t)c < r[mid][0])
                        hi = mid;
                else if ((uint32_t)c > r[mid][1])
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

static bool is_letter(int32_t c)
{
        if (c < 0x80)
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        return in_ranges(letter_ranges, ARRAY_SIZE(letter_ranges), c);
}

static bool is_digit(int32_t c)
{
        if (c < 0x80)
                return c >= '0' && c <= '9';
        return in_ranges(digit_ranges, ARRAY_SIZE(digit_ranges), c);
}

/* Go's unicode.IsSpace. */
static bool is_space(int32_t c)
{
        switch (c) {
        case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xa0:
        case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
                return true;
        }
        return c >= 0x2000 && c <= 0x200a;
}

/* ---- words, as BuildKit's ProcessWords splits them ---- */

struct words {
        bool on;                /* the caller wants words */
        struct strbuf buf;
        char **v;
        size_t n, cap;
        bool in_word;
};

static void words_push(struct words *w)
{
        if (w->n + 2 > w->cap) {
                w->cap = w->cap ? w->cap * 2 : 8;
                w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
        }
        w->v[w->n++] = xstrdup(w->buf.data);
        w->v[w->n] = NULL;
        w->buf.len = 0;
        w->buf.data[0] = '\0';
}

static void words_add_raw(struct words *w, const char *p, size_t len)
{
        if (!w->on)
                return;
        strbuf_add(&w->buf, p, len);
        w->in_word = true;
}

/* One character outside quotes: whitespace ends a word. */
static void words_add_char(struct words *w, int32_t c, const char *p, size_t len)
{
        if (!w->on)
                return;
        if (is_space(c)) {
                if (w->in_word && w->buf.len != 0) {
                        words_push(w);
                        w->in_word = false;
                }
        } else {
                words_add_raw(w, p, len);
        }
}

/* The value of a variable: split on whitespace like plain characters. */
static void words_add_string(struct words *w, const char *s, size_t len)
{
        size_t i = 0, width;

        while (i < len) {
                int32_t c = utf8_decode(s + i, len - i, &width);
                words_add_char(w, c, s + i, width);
                i += width;
        }
}

static void words_finish(struct words *w)
{
        if (w->on && w->buf.len > 0)
                words_push(w);
}

static void words_free(struct words *w)
{
        for (size_t i = 0; i < w->n; i++)
                free(w->v[i]);
        free(w->v);
        free(w->buf.data);
        memset(w, 0, sizeof(*w));
}

/* ---- the lexer ---- */

struct lex {
        const char *s;
        size_t n, pos;
        int32_t esc;
        unsigned flags;
        bool raw_escapes;
        unsigned depth;
        df_lookup_fn lookup;
        void *data;
};

static int32_t peek(const struct lex *l, size_t *width)
{
        return utf8_decode(l->s + l->pos, l->n - l->pos, width);
}

static int32_t peek1(const struct lex *l)
{
        size_t w;
        return peek(l, &w);
}

/* Consume one rune; *at and *len give its bytes. */
static int32_t next(struct lex *l, const char **at, size_t *len)
{
        size_t w;
        int32_t c = peek(l, &w);

        *at = l->s + l->pos;
        *len = c == LEX_EOF ? 0 : w;
        if (c != LEX_EOF)
                l->pos += w;
        return c;
}

static const char *getenv_(const struct lex *l, const char *name)
{
        return l->lookup ? l->lookup(name, l->data) : NULL;
}

static int lex_until(struct lex *l, int32_t stop, bool raw_escapes, struct strbuf *out, struct words *w,
                     berth_error_t **err);

static int lex_single_quote(struct lex *l, struct strbuf *out, berth_error_t **err)
{
        const char *at;
        size_t len;
        int32_t c = next(l, &at, &len);

        if (l->flags & DF_LEX_RAW_QUOTES)
                strbuf_add(out, at, len);
        for (;;) {
                c = next(l, &at, &len);
                if (c == LEX_EOF)
                        return berth_fail(err, 0, "unexpected end of statement while looking for matching single-quote");
                if (c == '\'') {
                        if (l->flags & DF_LEX_RAW_QUOTES)
                                strbuf_add(out, at, len);
                        return 0;
                }
                strbuf_add(out, at, len);
        }
}

static int lex_dollar(struct lex *l, struct strbuf *out, berth_error_t **err);

static int lex_double_quote(struct lex *l, struct strbuf *out, berth_error_t **err)
{
        const char *at;
        size_t len;
        int32_t c = next(l, &at, &len);

        if (l->flags & DF_LEX_RAW_QUOTES)
                strbuf_add(out, at, len);
        for (;;) {
                c = peek1(l);
                if (c == LEX_EOF)
                        return berth_fail(err, 0, "unexpected end of statement while looking for matching double-quote");
                if (c == '"') {
                        next(l, &at, &len);
                        if (l->flags & DF_LEX_RAW_QUOTES)
                                strbuf_add(out, at, len);
                        return 0;
                }
                if (c == '$') {
                        if (lex_dollar(l, out, err) < 0)
                                return -1;
                        continue;
                }
                c = next(l, &at, &len);
                if (c == l->esc) {
                        int32_t p = peek1(l);
                        if (l->raw_escapes)
                                strbuf_add(out, at, len);
                        if (p == LEX_EOF)
                                continue;       /* the error comes next round */
                        if (p == '"' || p == '$' || p == l->esc)
                                c = next(l, &at, &len);
                }
                strbuf_add(out, at, len);
        }
}

/* A name after '$': letters, digits and '_'; or a run of digits; or one
 * special parameter. */
static void lex_name(struct lex *l, struct strbuf *name)
{
        const char *at;
        size_t len;

        strbuf_add(name, "", 0);
        for (;;) {
                int32_t c = peek1(l);
                if (c == LEX_EOF)
                        return;
                if (name->len == 0 && is_digit(c)) {
                        while (is_digit(peek1(l))) {
                                next(l, &at, &len);
                                strbuf_add(name, at, len);
                        }
                        return;
                }
                if (name->len == 0 && c > 0 && c < 0x80 && strchr("@*#?-$!0", c) != NULL) {
                        next(l, &at, &len);
                        strbuf_add(name, at, len);
                        return;
                }
                if (!is_letter(c) && !is_digit(c) && c != '_')
                        return;
                next(l, &at, &len);
                strbuf_add(name, at, len);
        }
}

/* ---- shell patterns (${x#p}, ${x%p}, ${x/p/r}) ---- */

enum { P_LIT, P_ANY, P_STAR };

struct ptok {
        int type;
        const char *lit;
        size_t len;
};

struct pattern {
        struct ptok *t;
        size_t n, nstars;
        bool greedy;
};

/* The pattern's runes, as a list of (pointer, length). */
struct runes {
        const char **p;
        size_t *len;
        size_t n;
};

static void runes_split(const char *s, size_t n, struct runes *r)
{
        size_t i = 0, w;

        r->p = xcalloc(n + 1, sizeof(*r->p));
        r->len = xcalloc(n + 1, sizeof(*r->len));
        r->n = 0;
        while (i < n) {
                utf8_decode(s + i, n - i, &w);
                r->p[r->n] = s + i;
                r->len[r->n++] = w;
                i += w;
        }
}

static void runes_free(struct runes *r)
{
        free(r->p);
        free(r->len);
}

static bool rune_is(const struct runes *r, size_t i, char c)
{
        return i < r->n && r->len[i] == 1 && r->p[i][0] == c;
}

/* Reverse a pattern for a suffix match, keeping "\x" pairs in order. */
static void runes_reverse_pattern(struct runes *r)
{
        struct runes o = { xcalloc(r->n + 1, sizeof(*o.p)), xcalloc(r->n + 1, sizeof(*o.len)), r->n };
        size_t last = r->n - 1;

        for (size_t i = 0; i < r->n;) {
                size_t oi = last - i;
                if (rune_is(r, i, '\\') && i != last) {
                        o.p[oi - 1] = r->p[i];
                        o.len[oi - 1] = r->len[i];
                        o.p[oi] = r->p[i + 1];
                        o.len[oi] = r->len[i + 1];
                        i += 2;
                } else {
                        o.p[oi] = r->p[i];
                        o.len[oi] = r->len[i];
                        i++;
                }
        }
        runes_free(r);
        *r = o;
}

/* Compile: '*' any run, '?' any one character, '\' quotes '*', '?' and
 * '\' (and disappears before '}' and '/'), everything else literal. */
static int pattern_compile(const char *src, size_t n, bool reverse, bool greedy, struct pattern *pat,
                           berth_error_t **err)
{
        struct runes r;
        size_t i;

        runes_split(src, n, &r);
        if (reverse && r.n > 0)
                runes_reverse_pattern(&r);
        pat->t = xcalloc(r.n + 1, sizeof(*pat->t));
        pat->n = pat->nstars = 0;
        pat->greedy = greedy;
        for (i = 0; i < r.n; i++) {
                struct ptok t = { P_LIT, r.p[i], r.len[i] };
                if (rune_is(&r, i, '*')) {
                        if (pat->n > 0 && pat->t[pat->n - 1].type == P_STAR)
                                continue;       /* "**" matches as "*" does */
                        t.type = P_STAR;
                        pat->nstars++;
                } else if (rune_is(&r, i, '?')) {
                        t.type = P_ANY;
                } else if (rune_is(&r, i, '\\')) {
                        if (rune_is(&r, i + 1, '}') || rune_is(&r, i + 1, '/'))
                                continue;
                        i++;
                        if (!rune_is(&r, i, '*') && !rune_is(&r, i, '?') && !rune_is(&r, i, '\\')) {
                                _cleanup_free_ char *q = quote_n(src, n);
                                int ret = berth_fail(err, 0, "invalid pattern (%s) in substitution: invalid escape '\\%.*s'", q,
                                               i < r.n ? (int)r.len[i] : 0, i < r.n ? r.p[i] : "");
                                runes_free(&r);
                                return ret;
                        }
                        t.lit = r.p[i];
                        t.len = r.len[i];
                }
                pat->t[pat->n++] = t;
        }
        runes_free(&r);
        if (pat->nstars > MAX_STARS)
                return berth_fail(err, 0, "pattern too complex in substitution (more than %d '*')", MAX_STARS);
        return 0;
}

/* The text a pattern is matched against, in runes (a byte that is not
 * UTF-8 is one); reversed for suffixes. */
struct subject {
        char *s;                /* the bytes (reversed rune by rune for a suffix) */
        size_t n;
        size_t *next;           /* next[i]: the position after the rune at i */
        size_t *eol;            /* eol[i]: the first '\n' at or after i, or n */
        int32_t *memo;          /* per (star, position): -2 unknown, -1 no match, end */
        size_t *star_of;        /* token index -> star number */
};

static void subject_init(struct subject *sub, const char *v, size_t n, bool reverse)
{
        size_t i, w;

        sub->s = xmalloc(n + 1);
        sub->n = n;
        if (!reverse) {
                memcpy(sub->s, v, n);
        } else {
                for (i = 0; i < n; i += w) {
                        utf8_decode(v + i, n - i, &w);
                        memcpy(sub->s + n - i - w, v + i, w);
                }
        }
        sub->s[n] = '\0';
        sub->next = xcalloc(n + 1, sizeof(*sub->next));
        sub->eol = xcalloc(n + 1, sizeof(*sub->eol));
        for (i = 0; i < n; i += w) {
                utf8_decode(sub->s + i, n - i, &w);
                sub->next[i] = i + w;
        }
        sub->next[n] = n;
        sub->eol[n] = n;
        for (i = n; i-- > 0;)
                sub->eol[i] = sub->s[i] == '\n' ? i : sub->eol[i + 1];
        sub->memo = NULL;
        sub->star_of = NULL;
}

static void subject_free(struct subject *sub)
{
        free(sub->s);
        free(sub->next);
        free(sub->eol);
        free(sub->memo);
        free(sub->star_of);
}

static int subject_prepare(struct subject *sub, const struct pattern *pat, berth_error_t **err)
{
        size_t k = 0;

        if ((uint64_t)pat->nstars * (sub->n + 1) > MAX_MEMO)
                return berth_fail(err, 0, "pattern too complex in substitution");
        sub->memo = xmalloc((pat->nstars * (sub->n + 1) + 1) * sizeof(*sub->memo));
        for (size_t i = 0; i < pat->nstars * (sub->n + 1); i++)
                sub->memo[i] = -2;
        sub->star_of = xcalloc(pat->n + 1, sizeof(*sub->star_of));
        for (size_t i = 0; i < pat->n; i++)
                if (pat->t[i].type == P_STAR)
                        sub->star_of[i] = k++;
        return 0;
}

/* Match tokens ti.. at position pos as Go's regexp (leftmost-first, '*'
 * greedy or lazy, '.' never a newline) would: the end, or -1. */
static long match_at(const struct pattern *pat, struct subject *sub, size_t ti, size_t pos)
{
        for (; ti < pat->n; ti++) {
                const struct ptok *t = &pat->t[ti];
                if (t->type == P_LIT) {
                        if (sub->n - pos < t->len || memcmp(sub->s + pos, t->lit, t->len) != 0)
                                return -1;
                        pos += t->len;
                } else if (t->type == P_ANY) {
                        if (pos >= sub->n || sub->s[pos] == '\n')
                                return -1;
                        pos = sub->next[pos];
                } else {
                        int32_t *m = &sub->memo[sub->star_of[ti] * (sub->n + 1) + pos];
                        size_t end = sub->eol[pos], p;
                        long r = -1;

                        if (*m != -2)
                                return *m;
                        if (pat->greedy) {
                                for (p = end;;) {
                                        r = match_at(pat, sub, ti + 1, p);
                                        if (r >= 0 || p == pos)
                                                break;
                                        do
                                                p--;
                                        while (p > pos && sub->next[p] == 0);
                                }
                        } else {
                                for (p = pos;; p = sub->next[p]) {
                                        r = match_at(pat, sub, ti + 1, p);
                                        if (r >= 0 || p >= end)
                                                break;
                                }
                        }
                        *m = (int32_t)r;
                        return r;
                }
        }
        return (long)pos;
}

/* Remove the shortest (longest when greedy) prefix or suffix matching
 * the pattern. */
static int trim_affix(const char *value, const char *pattern, size_t plen, bool suffix, bool greedy,
                      struct strbuf *out, berth_error_t **err)
{
        struct pattern pat = { 0 };
        struct subject sub;
        size_t n = strlen(value);
        long end;
        int r;

        if (pattern_compile(pattern, plen, suffix, greedy, &pat, err) < 0) {
                free(pat.t);
                return -1;
        }
        subject_init(&sub, value, n, suffix);
        r = subject_prepare(&sub, &pat, err);
        if (r == 0) {
                end = match_at(&pat, &sub, 0, 0);
                if (end < 0)
                        strbuf_adds(out, value);
                else if (suffix)
                        strbuf_add(out, value, n - (size_t)end);
                else
                        strbuf_adds(out, value + end);
        }
        subject_free(&sub);
        free(pat.t);
        return r;
}

/* The leftmost match at or after from: its start, and its end in *end. */
static long find(const struct pattern *pat, struct subject *sub, size_t from, long *end)
{
        for (size_t p = from;; p = sub->next[p]) {
                *end = match_at(pat, sub, 0, p);
                if (*end >= 0)
                        return (long)p;
                if (p >= sub->n)
                        return -1;
        }
}

/* Go's Regexp.Expand for a pattern without groups: "$$" is '$', "$0" and
 * "${0}" the match, other names nothing, a '$' that starts no name stays. */
static void expand_replacement(struct strbuf *out, const char *repl, const char *match, size_t mlen)
{
        const char *p = repl;

        while (*p) {
                const char *d = strchr(p, '$'), *q, *name;
                size_t w, nlen;
                bool brace;

                if (d == NULL)
                        break;
                strbuf_add(out, p, (size_t)(d - p));
                p = d + 1;
                if (*p == '$') {
                        strbuf_add(out, "$", 1);
                        p++;
                        continue;
                }
                brace = *p == '{';
                q = name = p + brace;
                while (*q) {
                        int32_t c = utf8_decode(q, strlen(q), &w);
                        if (!is_letter(c) && !is_digit(c) && c != '_')
                                break;
                        q += w;
                }
                nlen = (size_t)(q - name);
                if (nlen == 0 || (brace && *q != '}')) {
                        strbuf_add(out, "$", 1);
                        continue;
                }
                p = q + brace;
                if (nlen == 1 && name[0] == '0')
                        strbuf_add(out, match, mlen);
        }
        strbuf_adds(out, p);
}

static int replace(const char *value, const char *pattern, const char *repl, bool all, struct strbuf *out,
                   berth_error_t **err)
{
        struct pattern pat = { 0 };
        struct subject sub;
        size_t n = strlen(value), last = 0, search = 0;
        long start, end;
        int r;

        if (pattern_compile(pattern, strlen(pattern), false, true, &pat, err) < 0) {
                free(pat.t);
                return -1;
        }
        subject_init(&sub, value, n, false);
        r = subject_prepare(&sub, &pat, err);
        if (r < 0)
                goto out;
        strbuf_add(out, "", 0);
        if (!all) {
                start = find(&pat, &sub, 0, &end);
                if (start < 0) {
                        strbuf_adds(out, value);
                } else {
                        strbuf_add(out, value, (size_t)start);
                        strbuf_adds(out, repl);
                        strbuf_adds(out, value + end);
                }
                goto out;
        }
        /* Go's replaceAll: an empty match right after a match is skipped,
         * and the search always moves on by at least one character. */
        while (search <= n) {
                start = find(&pat, &sub, search, &end);
                if (start < 0)
                        break;
                strbuf_add(out, value + last, (size_t)start - last);
                if ((size_t)end > last || start == 0)
                        expand_replacement(out, repl, value + start, (size_t)(end - start));
                last = (size_t)end;
                if (search < n && sub.next[search] > (size_t)end)
                        search = sub.next[search];
                else if (search + 1 > (size_t)end)
                        search++;
                else
                        search = (size_t)end;
        }
        strbuf_adds(out, value + last);
out:
        subject_free(&sub);
        free(pat.t);
        return r;
}

/* ---- $ ---- */

static int lex_dollar_(struct lex *l, struct strbuf *out, berth_error_t **err)
{
        _cleanup_free_ char *word_s = NULL;
        struct strbuf name = { 0 }, word = { 0 }, chs = { 0 };
        const char *at, *value;
        size_t len;
        int32_t c;
        bool null_is_unset = false;
        int ret = 0;

        next(l, &at, &len);     /* '$' */
        if (peek1(l) != '{') {
                lex_name(l, &name);
                if (name.len == 0) {
                        strbuf_add(out, "$", 1);
                } else if ((value = getenv_(l, name.data)) != NULL) {
                        strbuf_adds(out, value);
                } else if (l->flags & DF_LEX_SKIP_UNSET) {
                        strbuf_add(out, "$", 1);
                        strbuf_adds(out, name.data);
                }
                goto out;
        }
        next(l, &at, &len);     /* '{' */
        c = peek1(l);
        if (c == LEX_EOF) {
                ret = berth_fail(err, 0, "syntax error: missing '}'");
                goto out;
        }
        if (c == '{' || c == '}' || c == ':') {
                ret = berth_fail(err, 0, "syntax error: bad substitution");
                goto out;
        }
        lex_name(l, &name);
        c = next(l, &at, &len);
        strbuf_add(&chs, at, len);
        switch (c) {
        case LEX_EOF:
                ret = berth_fail(err, 0, "syntax error: missing '}'");
                goto out;
        case '}':
                if ((value = getenv_(l, name.data)) != NULL)
                        strbuf_adds(out, value);
                else if (l->flags & DF_LEX_SKIP_UNSET)
                        strbuf_adds(out, (word_s = xasprintf("${%s}", name.data)));
                goto out;
        case ':':
                null_is_unset = true;
                c = next(l, &at, &len);
                strbuf_add(&chs, at, len);
                if (c == LEX_EOF)
                        strbuf_adds(&chs, "\xef\xbf\xbd");
                /* fall through */
        case '+':
        case '-':
        case '?':
        case '#':
        case '%': {
                bool raw = c == '#' || c == '%', set, empty;
                if (null_is_unset && raw) {
                        ret = berth_fail(err, 0, "unsupported modifier (%s) in substitution", chs.data);
                        goto out;
                }
                strbuf_add(&word, "", 0);
                if (lex_until(l, '}', raw, &word, NULL, err) < 0) {
                        if (peek1(l) == LEX_EOF)
                                ret = berth_fail(err, 0, "syntax error: missing '}'");
                        else
                                ret = -1;
                        goto out;
                }
                value = getenv_(l, name.data);
                set = value != NULL;
                if (!set && (l->flags & DF_LEX_SKIP_UNSET)) {
                        strbuf_adds(out, (word_s = xasprintf("${%s%s%s}", name.data, chs.data, word.data)));
                        goto out;
                }
                if (!set)
                        value = "";
                empty = !set || (null_is_unset && value[0] == '\0');
                switch (c) {
                case '-':
                        strbuf_adds(out, empty ? word.data : value);
                        break;
                case '+':
                        if (!empty)
                                strbuf_adds(out, word.data);
                        break;
                case '?':
                        if (!set)
                                ret = berth_fail(err, 0, "%s: %s", name.data, word.len ? word.data : "is not allowed to be unset");
                        else if (null_is_unset && value[0] == '\0')
                                ret = berth_fail(err, 0, "%s: %s", name.data, word.len ? word.data : "is not allowed to be empty");
                        else
                                strbuf_adds(out, value);
                        break;
                case '#':
                case '%': {
                        bool greedy = word.len > 0 && word.data[0] == (char)c;
                        const char *p = word.data + greedy;
                        ret = trim_affix(value, p, strlen(p), c == '%', greedy, out, err);
                        break;
                }
                default:
                        ret = berth_fail(err, 0, "unsupported modifier (%s) in substitution", chs.data);
                }
                goto out;
        }
        case '/': {
                struct strbuf pattern = { 0 };
                bool all = peek1(l) == '/';
                if (all)
                        next(l, &at, &len);
                strbuf_add(&pattern, "", 0);
                if (lex_until(l, '/', true, &pattern, NULL, err) < 0) {
                        ret = peek1(l) == LEX_EOF ? berth_fail(err, 0, "syntax error: missing '/' in ${}") : -1;
                        free(pattern.data);
                        goto out;
                }
                strbuf_add(&word, "", 0);
                if (lex_until(l, '}', true, &word, NULL, err) < 0) {
                        ret = peek1(l) == LEX_EOF ? berth_fail(err, 0, "syntax error: missing '}'") : -1;
                        free(pattern.data);
                        goto out;
                }
                value = getenv_(l, name.data);
                if (value == NULL && (l->flags & DF_LEX_SKIP_UNSET))
                        strbuf_adds(out, (word_s = xasprintf("${%s/%s/%s}", name.data, pattern.data, word.data)));
                else
                        ret = replace(value ? value : "", pattern.data, word.data, all, out, err);
                free(pattern.data);
                goto out;
        }
        default:
                ret = berth_fail(err, 0, "unsupported modifier (%s) in substitution", chs.data);
        }
out:
        free(name.data);
        free(word.data);
        free(chs.data);
        return ret;
}

static int lex_dollar(struct lex *l, struct strbuf *out, berth_error_t **err)
{
        int r;

        if (l->depth >= MAX_DEPTH)
                return berth_fail(err, 0, "substitutions nested too deeply");
        l->depth++;
        r = lex_dollar_(l, out, err);
        l->depth--;
        return r;
}

/* '<<' and the blanks after it stay together in one word. */
static void lex_heredoc_mark(struct lex *l, struct strbuf *out)
{
        const char *at;
        size_t len;
        int32_t c;

        next(l, &at, &len);
        strbuf_add(out, "<", 1);
        if (peek1(l) != '<')
                return;
        next(l, &at, &len);
        strbuf_add(out, "<", 1);
        while ((c = peek1(l)) == '\t' || c == '\r' || c == ' ') {
                next(l, &at, &len);
                strbuf_add(out, at, len);
        }
}

static int lex_until(struct lex *l, int32_t stop, bool raw_escapes, struct strbuf *out, struct words *w,
                     berth_error_t **err)
{
        bool saved = l->raw_escapes;
        const char *at;
        size_t len;
        int32_t c;
        int ret = 0;

        l->raw_escapes = raw_escapes;
        while ((c = peek1(l)) != LEX_EOF) {
                if (stop != LEX_EOF && c == stop) {
                        next(l, &at, &len);
                        l->raw_escapes = saved;
                        if (w)
                                words_finish(w);
                        return 0;
                }
                if (c == '$' || c == '<' || c == '\'' || c == '"') {
                        struct strbuf tmp = { 0 };
                        strbuf_add(&tmp, "", 0);
                        if (c == '$')
                                ret = lex_dollar(l, &tmp, err);
                        else if (c == '<')
                                lex_heredoc_mark(l, &tmp);
                        else if (c == '\'')
                                ret = lex_single_quote(l, &tmp, err);
                        else
                                ret = lex_double_quote(l, &tmp, err);
                        if (ret < 0) {
                                free(tmp.data);
                                break;
                        }
                        strbuf_add(out, tmp.data, tmp.len);
                        if (w && c == '$')
                                words_add_string(w, tmp.data, tmp.len);
                        else if (w)
                                words_add_raw(w, tmp.data, tmp.len);
                        free(tmp.data);
                        continue;
                }
                c = next(l, &at, &len);
                if (c == l->esc) {
                        if (l->raw_escapes) {
                                if (w)
                                        words_add_raw(w, at, len);
                                strbuf_add(out, at, len);
                        }
                        c = next(l, &at, &len);
                        if (c == LEX_EOF)
                                break;
                        if (w)
                                words_add_raw(w, at, len);
                } else if (w) {
                        words_add_char(w, c, at, len);
                }
                strbuf_add(out, at, len);
        }
        l->raw_escapes = saved;
        if (ret < 0)
                return ret;
        if (stop != LEX_EOF) {
                char s[8];
                snprintf(s, sizeof(s), "%c", (char)stop);
                return berth_fail(err, 0, "unexpected end of statement while looking for matching %s", s);
        }
        if (w)
                words_finish(w);
        return 0;
}

/* "failed to process <word>: <reason>", the reason's control characters
 * (from the word: a modifier, a "${X?message}") escaped. */
static int one_line(berth_error_t **err, const char *quoted)
{
        struct strbuf b = { 0 };

        if (err == NULL || *err == NULL)
                return -1;
        strbuf_add(&b, "", 0);
        for (const char *p = (*err)->msg; *p; p++) {
                if ((unsigned char)*p < 0x20) {
                        char hex[8];
                        snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)*p);
                        strbuf_adds(&b, hex);
                } else {
                        strbuf_add(&b, p, 1);
                }
        }
        berth_fail(err, 0, "failed to process %s: %s", quoted, b.data);
        free(b.data);
        return -1;
}

int dockerfile_lex(const char *text, char escape, unsigned flags, df_lookup_fn lookup, void *data, char **word,
                   char ***words, size_t *nwords, berth_error_t **err)
{
        struct lex l = { .s = text, .n = strlen(text), .esc = (unsigned char)escape, .flags = flags,
                         .raw_escapes = (flags & DF_LEX_RAW_ESCAPES) != 0, .lookup = lookup, .data = data };
        struct strbuf out = { 0 };
        struct words w = { .on = words != NULL };

        strbuf_add(&out, "", 0);
        if (lex_until(&l, LEX_EOF, l.raw_escapes, &out, &w, err) < 0) {
                _cleanup_free_ char *q = quote(text);
                free(out.data);
                words_free(&w);
                return one_line(err, q);
        }
        if (word)
                *word = steal_pointer(&out.data);
        free(out.data);
        if (words) {
                if (w.v == NULL)
                        w.v = xcalloc(1, sizeof(*w.v));
                *words = steal_pointer(&w.v);
                if (nwords)
                        *nwords = w.n;
                w.n = 0;
        }
        words_free(&w);
        return 0;
}

int dockerfile_expand(const char *word, char escape, df_lookup_fn lookup, void *data, char **out,
                      berth_error_t **err)
{
        return dockerfile_lex(word, escape, 0, lookup, data, out, NULL, NULL, err);
}

int dockerfile_expand_words(const char *text, char escape, df_lookup_fn lookup, void *data, char ***out,
                            size_t *n, berth_error_t **err)
{
        return dockerfile_lex(text, escape, 0, lookup, data, NULL, out, n, err);
}
