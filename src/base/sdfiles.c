/*
 * sdfiles: the table of SmokeDetector's list files (sdfiles.h).
 */
#include <stddef.h>
#include <string.h>

#include "item.h"
#include "sdfiles.h"

static const struct {
	const char	*id;
	const char	*file;
	int		 fmt;
} known[] = {
	{ "blacklist-keyword", "bad_keywords.txt", HL_FMT_PLAIN },
	{ "blacklist-website", "blacklisted_websites.txt", HL_FMT_PLAIN },
	{ "blacklist-username", "blacklisted_usernames.txt", HL_FMT_PLAIN },
	{ "blacklist-number", "blacklisted_numbers.txt", HL_FMT_PLAIN },
	{ "watch-keyword", "watched_keywords.txt", HL_FMT_TSV },
	{ "watch-number", "watched_numbers.txt", HL_FMT_TSV },
	{ "blacklist-cidr", "blacklisted_cidrs.yml", HL_FMT_YAML_CIDR },
	{ "watch-cidr", "watched_cidrs.yml", HL_FMT_YAML_CIDR },
	{ "blacklist-ns", "blacklisted_nses.yml", HL_FMT_YAML_NS },
	{ "watch-ns", "watched_nses.yml", HL_FMT_YAML_NS },
	{ "watch-asn", "watched_asns.yml", HL_FMT_YAML_ASN },
};

const char *
hl_sdfile_name(const char *id, int *fmt)
{
	size_t i;

	for (i = 0; id != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].id, id) == 0) {
			if (fmt != NULL)
				*fmt = known[i].fmt;
			return known[i].file;
		}
	return NULL;
}

const char *
hl_sdfile_id(unsigned i)
{
	return i < sizeof(known) / sizeof(known[0]) ? known[i].id : NULL;
}
