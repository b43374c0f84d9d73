/* uscc: the Unified Social Credit Code check character (GB 32100-2015). */
#include "uscc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int
char_value(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* GB 32100-2015 appendix A: each registration authority (position 1) and the organisation
 * types (position 2) it registers. */
static const struct {
	char authority;
	const char *types;
} pairs[] = {
    {'1', "1239"}, /* 机构编制: 机关, 事业单位, 中央编办管理的群众团体, 其他 */
    {'2', "19"},   /* 外交: 外国常驻新闻机构, 其他 */
    {'3', "123459"}, /* 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构,
                        仲裁委员会, 其他 */
    {'4', "19"},   /* 文化: 外国在华文化中心, 其他 */
    {'5', "1239"}, /* 民政: 社会团体, 民办非企业单位, 基金会, 其他 */
    {'6', "129"},  /* 旅游: 外国 / 港澳台旅游部门常驻代表机构, 其他 */
    {'7', "129"},  /* 宗教: 宗教活动场所, 宗教院校, 其他 */
    {'8', "19"},   /* 工会: 基层工会, 其他 */
    {'9', "123"},  /* 工商: 企业, 个体工商户, 农民专业合作社 */
    {'A', "19"},   /* 中央军委改革和编制办公室: 军队事业单位, 其他 */
    {'N', "1239"}, /* 农业: 组级, 村级, 乡镇级集体经济组织, 其他 */
    {'Y', "1"},    /* 其他 */
};

static bool
valid_pair(char authority, char type)
{
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (pairs[i].authority == authority)
			return strchr(pairs[i].types, type) != NULL && type != '\0';
	return false;
}

int
uscc_check(const char *code, char *err, size_t errsz)
{
	char dummy[1];
	if (err == NULL) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	size_t len = strlen(code);
	if (len != USCC_LEN) {
		snprintf(err, errsz, "length is %zu, expected %d characters", len, USCC_LEN);
		return -1;
	}
	int sum = 0, weight = 1;
	for (int i = 0; i < USCC_LEN; i++) {
		int v = char_value(code[i]);
		if (v < 0) {
			unsigned char c = (unsigned char)code[i];
			if (c >= 0x20 && c < 0x7f)
				snprintf(err, errsz, "character '%c' at position %d is not allowed",
				         c, i + 1);
			else
				snprintf(err, errsz, "byte 0x%02x at position %d is not allowed", c,
				         i + 1);
			return -1;
		}
		if (i < USCC_LEN - 1) {
			sum += v * weight;
			weight = weight * 3 % 31;
		}
	}
	if (!valid_pair(code[0], code[1])) {
		snprintf(err, errsz,
		         "registration authority '%c' and organisation type '%c' (positions 1-2) "
		         "are not a pair of GB 32100-2015",
		         code[0], code[1]);
		return -1;
	}
	char expected = alphabet[(31 - sum % 31) % 31];
	if (code[USCC_LEN - 1] != expected) {
		snprintf(err, errsz, "check character expected '%c', found '%c'", expected,
		         code[USCC_LEN - 1]);
		return -1;
	}
	return 0;
}
