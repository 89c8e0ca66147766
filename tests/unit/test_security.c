/* test_security.c — SIDs, SDDL, self-relative security descriptors,
 * tokens, the DACL access check and application ids.
 *
 * Each test names the documented behaviour it pins with an EVIDENCE
 * marker; "sim-defined" marks choices recorded in docs/sim-defined.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wfp_value.h"

/* ---- fixture: an allocator that counts and can fail ------------------- */
typedef struct test_alloc {
    wfp_allocator a;
    long live;
    long count;
    long fail_at; /* 1-based allocation number to fail; 0 = never */
} test_alloc;

static void *ta_alloc(void *ctx, size_t n)
{
    test_alloc *t = ctx;
    t->count++;
    if (t->fail_at && t->count == t->fail_at) return NULL;
    t->live++;
    return malloc(n ? n : 1);
}

static void *ta_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n ? n : 1);
}

static void ta_free(void *ctx, void *p)
{
    test_alloc *t = ctx;
    if (p) t->live--;
    free(p);
}

static int setup(void **state)
{
    test_alloc *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->a.alloc = ta_alloc;
    t->a.realloc = ta_realloc;
    t->a.free = ta_free;
    t->a.ctx = t;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    test_alloc *t = *state;
    long live = t->live;
    free(t);
    return live == 0 ? 0 : -1;
}

static void tfree(test_alloc *t, void *p)
{
    t->a.free(t->a.ctx, p);
}

/* ---- SIDs ------------------------------------------------------------- */
static void assert_sid_text(const char *in, const char *want)
{
    uint8_t sid[WFP_SID_MAX];
    uint32_t len = 0;
    char buf[200];
    if (!wfp_sid_parse(in, sid, &len)) fail_msg("SID '%s' rejected", in);
    assert_true(wfp_sid_valid(sid, len));
    assert_int_equal(wfp_sid_format(sid, len, buf, sizeof buf), strlen(want));
    assert_string_equal(buf, want);
}

static void test_sid_parse_format(void **state)
{
    /* EVIDENCE: SEC-SID-STRING — W32 secauthz/sid-strings (SDDL SID aliases) and
     * ConvertStringSidToSid ("S-1-<authority>-<sub>…", at most 15 sub-authorities) */
    static const struct {
        const char *alias, *sid;
    } aliases[] = {
        {"WD", "S-1-1-0"},       {"SY", "S-1-5-18"},      {"LS", "S-1-5-19"},
        {"NS", "S-1-5-20"},      {"BA", "S-1-5-32-544"},  {"BU", "S-1-5-32-545"},
        {"AU", "S-1-5-11"},      {"IU", "S-1-5-4"},       {"AN", "S-1-5-7"},
        {"NO", "S-1-5-32-556"},  {"AC", "S-1-15-2-1"},    {"OW", "S-1-3-4"},
        {"ba", "S-1-5-32-544"},
    };
    static const char *const bad[] = {
        "", "S", "S-", "S-1", "S-1-", "S-2-5-18", "S-1-5-", "S-1--5", "S-1-5-4294967296",
        "S-1-281474976710656-1", "XX", "BAD", "S-1-5-18 ", " S-1-5-18", "-1-5", "S-1-5-18-",
        "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-0x-1", "S-01-5",
    };
    uint8_t sid[WFP_SID_MAX];
    uint32_t len;
    char buf[16];
    (void)state;

    assert_sid_text("S-1-5-21-1-2-3-1001", "S-1-5-21-1-2-3-1001");
    assert_sid_text("s-1-5-18", "S-1-5-18");
    assert_sid_text("S-1-5", "S-1-5"); /* no sub-authorities */
    assert_sid_text("S-1-5-21-4294967295", "S-1-5-21-4294967295");
    assert_sid_text("S-1-0x10-5", "S-1-16-5");
    assert_sid_text("S-1-0x123456789abc-1", "S-1-0x123456789abc-1"); /* >= 2^32: hex */
    assert_sid_text("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
                    "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15");
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        assert_sid_text(aliases[i].alias, aliases[i].sid);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (wfp_sid_parse(bad[i], sid, &len)) fail_msg("accepted bad SID '%s'", bad[i]);

    assert_true(wfp_sid_parse("S-1-5-32-544", sid, &len));
    assert_int_equal(len, 16);
    assert_int_equal(sid[0], 1);
    assert_int_equal(sid[1], 2);
    assert_int_equal(sid[7], 5);
    assert_int_equal(sid[8], 32);
    assert_int_equal(sid[12], 0x20);
    assert_int_equal(sid[13], 0x02);
    assert_false(wfp_sid_valid(sid, len - 1));
    assert_false(wfp_sid_valid(sid, len + 4));
    assert_false(wfp_sid_valid(NULL, 0));
    sid[0] = 2;
    assert_false(wfp_sid_valid(sid, len));
    sid[0] = 1;
    sid[1] = 16;
    assert_false(wfp_sid_valid(sid, 8 + 64));
    /* snprintf contract and invalid input */
    assert_true(wfp_sid_parse("S-1-5-21-1-2-3-1001", sid, &len));
    assert_int_equal(wfp_sid_format(sid, len, buf, 6), 19);
    assert_string_equal(buf, "S-1-5");
    assert_int_equal(wfp_sid_format(sid, 3, buf, sizeof buf), strlen("<invalid-sid>"));
}

/* ---- SDDL ------------------------------------------------------------- */
static void test_sddl_roundtrip(void **state)
{
    /* EVIDENCE: SEC-SDDL-SD-FORMAT — W32 secauthz/security-descriptor-string-format (O:, G:, D:, S:;
     * D:P / D:AI / D:AR flags; NO_ACCESS_CONTROL = NULL ACL) */
    /* EVIDENCE: SEC-SDDL-ACE-STRINGS — W32 secauthz/ace-strings (A/D/AU/AL, OI CI NP IO ID SA FA,
     * GA GR GW GX RC SD WD WO RP WP CC DC LC SW LO DT CR FA FR FW FX KA KR KW KX, hex masks) */
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"O:BAG:SYD:(A;;CC;;;BA)", "O:BAG:SYD:(A;;CC;;;BA)"},
        {"D:P(A;OICI;FA;;;SY)(D;;0x1;;;S-1-5-21-1-2-3-1001)",
         "D:P(A;OICI;FA;;;SY)(D;;CC;;;S-1-5-21-1-2-3-1001)"},
        {"D:PAI(A;ID;GA;;;BA)", "D:PAI(A;ID;GA;;;BA)"},
        {"D:AIAR", "D:ARAI"},
        {"D:NO_ACCESS_CONTROL", "D:NO_ACCESS_CONTROL"},
        {"D:PNO_ACCESS_CONTROL", "D:PNO_ACCESS_CONTROL"},
        {"D:", "D:"},
        {"", ""},
        {"O:S-1-5-32-544", "O:BA"},
        {"S:(AU;SAFA;RPWP;;;WD)", "S:(AU;SAFA;RPWP;;;WD)"},
        {"D:(A;;0xF07FF;;;NO)", "D:(A;;0xf07ff;;;NO)"},
        {"D:(A;;0x1F01FF;;;SY)", "D:(A;;FA;;;SY)"},
        {"D:(A;;0x0;;;SY)", "D:(A;;0x0;;;SY)"},
        {"D:(A;;RCSDWDWO;;;SY)", "D:(A;;SDRCWDWO;;;SY)"},
        {"D:(A;;0xF01FF;;;SY)", "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)"},
        {"D:(A;;KX;;;SY)", "D:(A;;KR;;;SY)"},
        {"D:(A;;16;;;SY)", "D:(A;;RP;;;SY)"},
        {"D:(A;NPIO;GRGWGX;;;AU)", "D:(A;NPIO;GRGWGX;;;AU)"},
        {" O:BA D:(A;;CC;;;WD) (D;;DC;;;AN) ", "O:BAD:(A;;CC;;;WD)(D;;DC;;;AN)"},
        {"D:(A;;CC;;;WD)O:BA", "O:BAD:(A;;CC;;;WD)"},
        {"d:(a;ci;cc;;;wd)", "D:(A;CI;CC;;;WD)"},
        {"O:SYG:SYD:PAI(A;;CCLCSWLORC;;;WD)S:AI(AL;FA;WD;;;BA)",
         "O:SYG:SYD:PAI(A;;CCLCSWLORC;;;WD)S:AI(AL;FA;WD;;;BA)"},
        {"D:(A;;CC;;;S-1-5-21-3623811015-3361044348-30300820-1013)",
         "D:(A;;CC;;;S-1-5-21-3623811015-3361044348-30300820-1013)"},
    };
    test_alloc *t = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *sd, *sd2;
        uint32_t len, len2;
        size_t err = 99;
        char buf[256];
        uint32_t rc = wfp_sddl_parse(&t->a, cases[i].in, &sd, &len, &err);
        if (rc != ERROR_SUCCESS) fail_msg("'%s' rejected at %zu", cases[i].in, err);
        assert_int_equal(err, 0);
        assert_true(wfp_sd_valid(sd, len));
        assert_int_equal(wfp_sd_format(sd, len, buf, sizeof buf), strlen(cases[i].out));
        assert_string_equal(buf, cases[i].out);
        /* the canonical text gives the same bytes */
        assert_int_equal(wfp_sddl_parse(&t->a, buf, &sd2, &len2, NULL), ERROR_SUCCESS);
        assert_int_equal(len, len2);
        assert_memory_equal(sd, sd2, len);
        tfree(t, sd);
        tfree(t, sd2);
    }
}

static void test_sddl_layout(void **state)
{
    /* EVIDENCE: SEC-SD-SELF-RELATIVE — W32 secauthz/absolute-and-self-relative-security-descriptors
     * (offsets, SE_SELF_RELATIVE); winnt.h SECURITY_DESCRIPTOR_RELATIVE / ACL / ACE_HEADER */
    test_alloc *t = *state;
    uint8_t *sd;
    uint32_t len;
    (void)state;
    assert_int_equal(wfp_sddl_parse(&t->a, "O:BAG:SYD:(A;OI;0x1;;;WD)", &sd, &len, NULL),
                     ERROR_SUCCESS);
    /* header 20 + DACL (8 + 8 + 12) + owner 16 + group 12 */
    assert_int_equal(len, 20 + 28 + 16 + 12);
    assert_int_equal(sd[0], 1);                  /* revision */
    assert_int_equal(sd[2] | sd[3] << 8, 0x8004); /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
    assert_int_equal(sd[16], 20);                /* DACL first */
    assert_int_equal(sd[4], 48);                 /* then owner */
    assert_int_equal(sd[8], 64);                 /* then group */
    assert_int_equal(sd[12], 0);                 /* no SACL */
    assert_int_equal(sd[20], 2);                 /* ACL_REVISION */
    assert_int_equal(sd[22], 28);                /* AclSize */
    assert_int_equal(sd[24], 1);                 /* AceCount */
    assert_int_equal(sd[28], 0);                 /* ACCESS_ALLOWED_ACE_TYPE */
    assert_int_equal(sd[29], 1);                 /* OBJECT_INHERIT_ACE */
    assert_int_equal(sd[30], 20);                /* AceSize */
    assert_int_equal(sd[32], 1);                 /* mask */
    tfree(t, sd);
    /* NULL DACL: present, offset 0 */
    assert_int_equal(wfp_sddl_parse(&t->a, "D:NO_ACCESS_CONTROL", &sd, &len, NULL), ERROR_SUCCESS);
    assert_int_equal(len, 20);
    assert_int_equal(sd[2] | sd[3] << 8, 0x8004);
    assert_int_equal(sd[16], 0);
    tfree(t, sd);
    /* no D: at all: DACL not present */
    assert_int_equal(wfp_sddl_parse(&t->a, "O:SY", &sd, &len, NULL), ERROR_SUCCESS);
    assert_int_equal(sd[2] | sd[3] << 8, 0x8000);
    tfree(t, sd);
}

static void test_sddl_errors(void **state)
{
    static const struct {
        const char *in;
        size_t at;
    } cases[] = {
        {"X:BA", 0},
        {"O:ZZ", 2},
        {"O:BAO:SY", 4},                       /* duplicate component */
        {"D:(A;;CC;;;BA", 13},                 /* missing ')' */
        {"D:(Q;;CC;;;BA)", 3},                 /* unknown ACE type */
        {"D:(A;XX;CC;;;BA)", 5},               /* unknown flag */
        {"D:(A;;QQ;;;BA)", 6},                 /* unknown right */
        {"D:(A;;;;;BA)", 6},                   /* empty rights */
        {"D:(A;;CC;x;;BA)", 9},                /* object GUID on a non-object ACE */
        {"D:NO_ACCESS_CONTROL(A;;CC;;;BA)", 19}, /* ACEs in a NULL DACL */
        {"D:(AU;;CC;;;BA)", 3},                /* audit ACE in the DACL */
        {"S:(A;;CC;;;BA)", 3},                 /* allow ACE in the SACL */
        {"D:(A;;CC;;;S-1-5-)", 16},
        {"D:(A;;CC;;;BA)(", 15},
        {"D:(A;;CC;;;BA)junk", 14},
        {"D:(A;;CC;;;BA;(x))", 13},            /* resource attributes */
        {"D:(A;;0x100000000;;;BA)", 6},        /* mask wider than 32 bits */
        {"O:", 2},
    };
    test_alloc *t = *state;
    uint8_t *sd = (uint8_t *)"x";
    uint32_t len = 5;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t err = 999;
        uint32_t rc = wfp_sddl_parse(&t->a, cases[i].in, &sd, &len, &err);
        if (rc != ERROR_INVALID_SECURITY_DESCR)
            fail_msg("'%s' accepted (rc 0x%x)", cases[i].in, (unsigned)rc);
        if (err != cases[i].at) fail_msg("'%s': error at %zu, want %zu", cases[i].in, err, cases[i].at);
        assert_null(sd);
        assert_int_equal(len, 0);
    }
    assert_int_equal(t->live, 0);
    assert_int_equal(wfp_sddl_parse(&t->a, NULL, &sd, &len, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(wfp_sddl_parse(NULL, "D:", &sd, &len, NULL), ERROR_INVALID_PARAMETER);
    /* AclSize is 16 bits: 3300 ACEs of 20 bytes do not fit */
    {
        static const char ace[] = "(A;;CC;;;WD)";
        size_t n = 2 + 3300 * (sizeof ace - 1) + 1;
        char *s = malloc(n);
        assert_non_null(s);
        strcpy(s, "D:");
        for (int i = 0; i < 3300; i++) strcat(s, ace);
        assert_int_equal(wfp_sddl_parse(&t->a, s, &sd, &len, NULL), ERROR_INVALID_SECURITY_DESCR);
        s[2 + 3000 * (sizeof ace - 1)] = 0;
        assert_int_equal(wfp_sddl_parse(&t->a, s, &sd, &len, NULL), ERROR_SUCCESS);
        assert_int_equal(len, 20 + 8 + 3000 * 20);
        tfree(t, sd);
        free(s);
    }
    /* allocation failure */
    t->count = 0;
    t->fail_at = 1;
    assert_int_equal(wfp_sddl_parse(&t->a, "D:(A;;CC;;;WD)", &sd, &len, NULL),
                     ERROR_NOT_ENOUGH_MEMORY);
    assert_null(sd);
    t->fail_at = 0;
}

/* ---- binary SD validation --------------------------------------------- */
static void test_sd_valid_rejects(void **state)
{
    /* EVIDENCE: SEC-SD-VALID — W32 secauthz/absolute-and-self-relative-security-descriptors;
     * IsValidSecurityDescriptor-style checks, every offset/size bounded (sim: ACE types A, D, AU, AL) */
    test_alloc *t = *state;
    uint8_t *sd, *bad;
    uint32_t len;
    char buf[200];

    assert_int_equal(wfp_sddl_parse(&t->a, "O:BAG:SYD:(A;;CC;;;BA)(D;;CC;;;WD)", &sd, &len, NULL),
                     ERROR_SUCCESS);
    assert_true(wfp_sd_valid(sd, len));
    /* group is last, so every truncation breaks it */
    for (uint32_t l = 0; l < len; l++) assert_false(wfp_sd_valid(sd, l));
    assert_false(wfp_sd_valid(NULL, len));
    bad = malloc(len);
    assert_non_null(bad);
#define MUTATE(off, val)                                                                         \
    do {                                                                                         \
        memcpy(bad, sd, len);                                                                    \
        bad[off] = (uint8_t)(val);                                                               \
        assert_false(wfp_sd_valid(bad, len));                                                    \
        assert_int_equal(wfp_sd_format(bad, len, buf, sizeof buf), strlen("<invalid-sd>"));     \
    } while (0)
    MUTATE(0, 2);        /* SD revision */
    MUTATE(3, 0x00);     /* absolute, not self-relative */
    MUTATE(4, 0x31);     /* owner offset misaligned */
    MUTATE(4, len);      /* owner offset at the end */
    MUTATE(4, 8);        /* owner offset inside the header */
    MUTATE(16, 0xfc);    /* DACL offset beyond the end */
    MUTATE(20, 1);       /* ACL revision */
    MUTATE(22, 0xff);    /* AclSize beyond the end */
    MUTATE(22, 4);       /* AclSize smaller than its header */
    MUTATE(24, 3);       /* AceCount beyond AclSize */
    MUTATE(28, 5);       /* object ACE type: not supported */
    MUTATE(30, 0);       /* AceSize 0 */
    MUTATE(30, 22);      /* AceSize not a multiple of 4 */
    MUTATE(30, 28);      /* AceSize disagrees with the SID */
    MUTATE(37, 9);       /* SID sub-authority count past the ACE */
    MUTATE(36, 2);       /* SID revision */
#undef MUTATE
    /* a SACL offset without SE_SACL_PRESENT is ignored, as Windows does */
    memcpy(bad, sd, len);
    bad[12] = 0xfc;
    assert_true(wfp_sd_valid(bad, len));
    free(bad);
    tfree(t, sd);
}

/* ---- access check ----------------------------------------------------- */
typedef struct ac_env {
    test_alloc *t;
    uint8_t *user_u, *user_v, *admin;
    uint32_t ul, vl, al;
} ac_env;

#define U_SID "S-1-5-21-1-2-3-1001"
#define V_SID "S-1-5-21-1-2-3-1002"
#define A_SID "S-1-5-21-1-2-3-500"

static void ac_open(ac_env *e, test_alloc *t)
{
    const char *u[] = {U_SID, "BU", "WD", "AU"};
    const char *v[] = {V_SID, "BU", "WD", "AU"};
    const char *a[] = {A_SID, "BA", "BU", "WD", "AU"};
    e->t = t;
    assert_true(wfp_token_build(&t->a, u, 4, &e->user_u, &e->ul));
    assert_true(wfp_token_build(&t->a, v, 4, &e->user_v, &e->vl));
    assert_true(wfp_token_build(&t->a, a, 5, &e->admin, &e->al));
}

static void ac_close(ac_env *e)
{
    tfree(e->t, e->user_u);
    tfree(e->t, e->user_v);
    tfree(e->t, e->admin);
}

/* 'u', 'v' or 'a' → access check of that token against the SDDL. */
static bool check(ac_env *e, const char *sddl, char who, uint32_t desired)
{
    uint8_t *sd;
    uint32_t len;
    bool r;
    const uint8_t *tok = who == 'u' ? e->user_u : who == 'v' ? e->user_v : e->admin;
    uint32_t tl = who == 'u' ? e->ul : who == 'v' ? e->vl : e->al;
    if (wfp_sddl_parse(&e->t->a, sddl, &sd, &len, NULL) != ERROR_SUCCESS)
        fail_msg("bad test SDDL '%s'", sddl);
    r = wfp_sd_access_check(sd, len, tok, tl, desired);
    tfree(e->t, sd);
    return r;
}

static void test_access_check(void **state)
{
    ac_env e;
    ac_open(&e, *state);

    /* EVIDENCE: COND-SD-ACCESS-CHECK — spec C28; W32 permitting-and-blocking-applications-and-users
     * (allow ACE for the user with FWP_ACTRL_MATCH_FILTER) */
    assert_true(check(&e, "D:(A;;CC;;;" U_SID ")", 'u', FWP_ACTRL_MATCH_FILTER));
    assert_false(check(&e, "D:(A;;CC;;;" U_SID ")", 'v', FWP_ACTRL_MATCH_FILTER));
    assert_false(check(&e, "D:(A;;CC;;;" U_SID ")", 'u', 0x2));

    /* EVIDENCE: SEC-DACL-ORDER — W32 secauthz/how-dacls-control-access-to-an-object and
     * secauthz/dacls-and-aces (ACEs read in order until granted or denied; deny before allow) */
    assert_false(check(&e, "D:(D;;CC;;;" U_SID ")(A;;CC;;;BU)", 'u', 0x1));
    assert_true(check(&e, "D:(D;;CC;;;" U_SID ")(A;;CC;;;BU)", 'v', 0x1));
    assert_true(check(&e, "D:(A;;CC;;;BU)(D;;CC;;;" U_SID ")", 'u', 0x1)); /* order matters */
    /* rights accumulate over several allow ACEs */
    assert_true(check(&e, "D:(A;;CC;;;" U_SID ")(A;;DC;;;BU)", 'u', 0x3));
    assert_false(check(&e, "D:(A;;CC;;;" U_SID ")(A;;DC;;;BU)", 'u', 0x7));
    /* a deny ACE denies only bits not granted yet */
    assert_false(check(&e, "D:(A;;CC;;;" U_SID ")(D;;CCDC;;;WD)(A;;DC;;;BU)", 'u', 0x3));
    assert_true(check(&e, "D:(A;;CC;;;" U_SID ")(D;;CC;;;WD)(A;;DC;;;BU)", 'u', 0x3));
    assert_true(check(&e, "D:(A;;CC;;;" U_SID ")(D;;CCDC;;;WD)(A;;DC;;;BU)", 'u', 0x1));

    /* group membership: BA only in the admin token */
    assert_true(check(&e, "D:(A;;CC;;;BA)", 'a', 0x1));
    assert_false(check(&e, "D:(A;;CC;;;BA)", 'u', 0x1));

    /* EVIDENCE: SEC-GENERIC-MAPPING — fwpmu.h FWPM_GENERIC_* (spec §10.1); sim-defined: generic bits in
     * ACEs are mapped at check time */
    assert_true(check(&e, "D:(A;;GA;;;BA)", 'a', FWP_ACTRL_MATCH_FILTER));
    assert_true(check(&e, "D:(A;;GA;;;BA)", 'a', FWPM_ACTRL_ADD | FWPM_ACTRL_WRITE | 0x00010000u));
    assert_true(check(&e, "D:(A;;GR;;;BU)", 'u', FWPM_ACTRL_OPEN | FWPM_ACTRL_READ));
    assert_false(check(&e, "D:(A;;GR;;;BU)", 'u', FWPM_ACTRL_ADD));
    assert_true(check(&e, "D:(A;;GRGWGX;;;NO)(A;;GA;;;BU)", 'u', 0x80000000u)); /* GENERIC_READ asked */

    /* EVIDENCE: SEC-NULL-DACL — W32 secauthz/dacls-and-aces ("If a Windows object does not have a DACL,
     * the system allows everyone full access") */
    assert_true(check(&e, "D:NO_ACCESS_CONTROL", 'u', 0xffffffffu));
    assert_true(check(&e, "O:SY", 'v', FWPM_ACTRL_ADD));
    /* EVIDENCE: SEC-EMPTY-DACL — W32 secauthz/dacls-and-aces ("If there are no ACEs in the DACL, the
     * system does not allow access to anyone") */
    assert_false(check(&e, "D:", 'a', FWP_ACTRL_MATCH_FILTER));
    /* EVIDENCE: SEC-INHERIT-ONLY — W32 ace-strings / ACE_HEADER (INHERIT_ONLY_ACE does not control access
     * to the object it is attached to) */
    assert_false(check(&e, "D:(A;OICIIO;CC;;;" U_SID ")", 'u', 0x1));
    assert_true(check(&e, "D:(D;OICIIO;CC;;;" U_SID ")(A;;CC;;;" U_SID ")", 'u', 0x1));
    assert_true(check(&e, "D:(A;ID;CC;;;" U_SID ")", 'u', 0x1)); /* inherited ACEs do count */

    /* EVIDENCE: SEC-OWNER-WRITE-DAC — W32 secauthz/owner-of-a-new-object ("An object's owner implicitly
     * has WRITE_DAC access"); READ_CONTROL too, unless an OWNER RIGHTS (S-1-3-4) ACE is present */
    assert_true(check(&e, "O:" U_SID "D:(D;;WDRC;;;WD)", 'u', 0x00040000u | 0x00020000u));
    assert_false(check(&e, "O:" U_SID "D:(D;;WDRC;;;WD)", 'v', 0x00040000u));
    assert_false(check(&e, "O:" U_SID "D:(D;;WDRC;;;WD)", 'u', 0x00010000u));
    assert_false(check(&e, "O:" U_SID "D:(A;;RC;;;OW)", 'u', 0x00040000u));
    assert_true(check(&e, "O:" U_SID "D:(A;;RC;;;OW)", 'u', 0x00020000u));
    assert_false(check(&e, "O:" U_SID "D:(A;;RC;;;OW)", 'v', 0x00020000u));
    /* spec C66: deny DELETE|WRITE_DAC|WRITE_OWNER to everyone keeps admins from deleting */
    assert_false(check(&e, "D:(D;;SDWDWO;;;WD)(A;;GA;;;BA)", 'a', 0x00010000u));
    assert_true(check(&e, "D:(D;;SDWDWO;;;WD)(A;;GA;;;BA)", 'a', FWPM_ACTRL_READ));
    /* asking for nothing grants nothing (SeAccessCheck) */
    assert_false(check(&e, "D:(A;;GA;;;WD)", 'u', 0));
    /* audit ACEs in a SACL grant nothing */
    assert_false(check(&e, "D:S:(AU;SA;CC;;;WD)", 'u', 0x1));

    /* hostile inputs: invalid SD or token ⇒ no access */
    {
        uint8_t *sd;
        uint32_t len;
        uint8_t junk_tok[12] = {1, 5, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
        assert_int_equal(wfp_sddl_parse(&e.t->a, "D:NO_ACCESS_CONTROL", &sd, &len, NULL), ERROR_SUCCESS);
        assert_false(wfp_sd_access_check(sd, len, junk_tok, sizeof junk_tok, 1));
        assert_false(wfp_sd_access_check(sd, len - 1, e.user_u, e.ul, 1));
        assert_true(wfp_sd_access_check(sd, len, NULL, 0, 1)); /* empty token, NULL DACL */
        tfree(e.t, sd);
    }
    ac_close(&e);
}

static void test_token_build(void **state)
{
    test_alloc *t = *state;
    const char *sids[] = {"S-1-5-21-1-2-3-1001", "BA", "WD"};
    const char *bad[] = {"S-1-5-18", "nonsense"};
    uint8_t *tok;
    uint32_t len;
    uint8_t sid[WFP_SID_MAX];
    uint32_t sl;

    assert_true(wfp_token_build(&t->a, sids, 3, &tok, &len));
    assert_int_equal(len, 28 + 16 + 12);
    assert_true(wfp_sid_parse(sids[0], sid, &sl));
    assert_memory_equal(tok, sid, sl); /* user first */
    assert_true(wfp_sid_parse("WD", sid, &sl));
    assert_memory_equal(tok + 44, sid, sl);
    tfree(t, tok);
    assert_false(wfp_token_build(&t->a, bad, 2, &tok, &len));
    assert_null(tok);
    assert_true(wfp_token_build(&t->a, NULL, 0, &tok, &len));
    assert_null(tok);
    assert_int_equal(len, 0);
    t->count = 0;
    t->fail_at = 1;
    assert_false(wfp_token_build(&t->a, sids, 3, &tok, &len));
    t->fail_at = 0;
}

/* ---- application ids -------------------------------------------------- */
static void assert_app_id(test_alloc *t, const char *path, const uint8_t *vols, const char *want)
{
    uint8_t *blob;
    uint32_t len;
    size_t n = strlen(want);
    char back[300];
    if (!wfp_app_id_from_path(&t->a, path, vols, &blob, &len)) fail_msg("path '%s' rejected", path);
    /* want is ASCII here: UTF-16LE is each byte followed by 0, then a NUL */
    assert_int_equal(len, 2 * n + 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(blob[2 * i], (uint8_t)want[i]);
        assert_int_equal(blob[2 * i + 1], 0);
    }
    assert_int_equal(blob[2 * n], 0);
    assert_int_equal(blob[2 * n + 1], 0);
    assert_int_equal(wfp_app_id_format(blob, len, back, sizeof back), n);
    assert_string_equal(back, want);
    tfree(t, blob);
}

static void test_app_id(void **state)
{
    /* EVIDENCE: APPID-DEVICE-PATH — spec §1.9.1 (ALE_APP_ID from FwpmGetAppIdFromFileName0 is the
     * NUL-terminated lower-case NT device path in UTF-16; drive→volume mapping is sim-defined) */
    test_alloc *t = *state;
    static const char *const bad[] = {"", "relative\\x.exe", "C:", "C:x.exe", "\\x.exe",
                                      "C:\\\xff.exe", "C:\\\xc0\xaf", "C:\\\xed\xa0\x80",
                                      "1:\\x", "\\\\"};
    uint8_t vols[26];
    uint8_t *blob;
    uint32_t len;
    char text[64];

    assert_app_id(t, "C:\\Program Files\\App\\app.exe", NULL,
                  "\\device\\harddiskvolume3\\program files\\app\\app.exe");
    assert_app_id(t, "c:/dir/A.EXE", NULL, "\\device\\harddiskvolume3\\dir\\a.exe");
    assert_app_id(t, "D:\\x.exe", NULL, "\\device\\harddiskvolume4\\x.exe");
    memset(vols, 0, sizeof vols);
    vols['D' - 'A'] = 7;
    vols['Z' - 'A'] = 123;
    assert_app_id(t, "D:\\x.exe", vols, "\\device\\harddiskvolume7\\x.exe");
    assert_app_id(t, "z:\\x.exe", vols, "\\device\\harddiskvolume123\\x.exe");
    assert_app_id(t, "C:\\x.exe", vols, "\\device\\harddiskvolume3\\x.exe");
    assert_app_id(t, "\\Device\\HarddiskVolume2\\Foo.EXE", NULL, "\\device\\harddiskvolume2\\foo.exe");
    assert_app_id(t, "\\\\Server\\Share\\x.exe", NULL, "\\device\\mup\\server\\share\\x.exe");
    assert_app_id(t, "\\\\?\\C:\\x.exe", NULL, "\\device\\harddiskvolume3\\x.exe");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (wfp_app_id_from_path(&t->a, bad[i], NULL, &blob, &len))
            fail_msg("accepted bad path '%s'", bad[i]);
        assert_null(blob);
    }
    /* non-ASCII: kept as is (only ASCII is lower-cased: sim-defined) */
    assert_true(wfp_app_id_from_path(&t->a, "C:\\Caf\xc3\x89\\\xf0\x9f\x98\x80.exe", NULL, &blob, &len));
    assert_int_equal(len, 2 * (strlen("\\device\\harddiskvolume3\\caf\\.exe") + 1 + 2) + 2);
    assert_true(wfp_app_id_format(blob, len, text, sizeof text) > 0);
    assert_string_equal(text, "\\device\\harddiskvolume3\\caf\xc3\x89\\\xf0\x9f\x98\x80.exe");
    tfree(t, blob);
    /* odd sizes and lone surrogates still print */
    {
        static const uint8_t odd[5] = {'a', 0, 'b', 0, 'c'};
        static const uint8_t lone[6] = {'a', 0, 0x00, 0xd8, 0, 0};
        assert_int_equal(wfp_app_id_format(odd, 5, text, sizeof text), 2);
        assert_string_equal(text, "ab");
        assert_int_equal(wfp_app_id_format(lone, 6, text, sizeof text), 4);
        assert_string_equal(text, "a\xef\xbf\xbd");
        assert_int_equal(wfp_app_id_format(NULL, 0, text, sizeof text), 0);
    }
    t->count = 0;
    t->fail_at = 1;
    assert_false(wfp_app_id_from_path(&t->a, "C:\\x.exe", NULL, &blob, &len));
    t->fail_at = 0;
}

/* ---- garbage in ------------------------------------------------------- */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_sddl_survives_garbage(void **state)
{
    /* Deterministic mutations of SDDL text and SD bytes. Whatever parses
     * must be valid, print, and print the same after a reparse; whatever
     * does not must fail cleanly. ASan/UBSan watch the reads. */
    static const char *const seeds[] = {
        "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(D;;CC;;;S-1-5-21-1-2-3-1001)S:(AU;SAFA;RP;;;WD)",
        "D:(A;;0xF07FF;;;NO)(A;;GA;;;BA)",
        "D:NO_ACCESS_CONTROL",
        "O:S-1-5-32-544D:(A;ID;CCDC;;;AU)",
    };
    static const char alphabet[] = "ADOGSPI:;()-0123456789xFCWBYUN_ ";
    test_alloc *t = *state;
    uint32_t seed = 777;
    char buf[160], out1[400], out2[400];
    const char *tok_sids[] = {"S-1-5-21-1-2-3-1001", "BA", "WD"};
    uint8_t *tok;
    uint32_t tl;
    int parsed = 0;

    assert_true(wfp_token_build(&t->a, tok_sids, 3, &tok, &tl));
    for (int iter = 0; iter < 20000; iter++) {
        const char *s = seeds[iter % 4];
        size_t n = strlen(s);
        uint8_t *sd, *sd2;
        uint32_t len, len2;
        size_t err;
        memcpy(buf, s, n + 1);
        for (int k = 0, m = 1 + (int)(lcg(&seed) % 3); k < m; k++) {
            uint32_t op = lcg(&seed) % 3, pos = (uint32_t)(lcg(&seed) % (n + 1));
            char ch = alphabet[lcg(&seed) % (sizeof alphabet - 1)];
            if (op == 0 && pos < n) buf[pos] = ch;
            else if (op == 1 && n + 1 < sizeof buf - 1) {
                memmove(buf + pos + 1, buf + pos, n - pos + 1);
                buf[pos] = ch;
                n++;
            } else if (op == 2 && pos < n) {
                memmove(buf + pos, buf + pos + 1, n - pos);
                n--;
            }
        }
        if (wfp_sddl_parse(&t->a, buf, &sd, &len, &err) != ERROR_SUCCESS) {
            assert_true(err <= n);
            continue;
        }
        parsed++;
        assert_true(wfp_sd_valid(sd, len));
        wfp_sd_format(sd, len, out1, sizeof out1);
        assert_int_equal(wfp_sddl_parse(&t->a, out1, &sd2, &len2, NULL), ERROR_SUCCESS);
        wfp_sd_format(sd2, len2, out2, sizeof out2);
        assert_string_equal(out1, out2);
        (void)wfp_sd_access_check(sd, len, tok, tl, lcg(&seed));
        /* now the bytes: flip a few and make sure nothing reads out of bounds */
        for (int k = 0; k < 4; k++) {
            uint32_t cut = len - lcg(&seed) % 3;
            for (int f = 0, m = 1 + (int)(lcg(&seed) % 3); f < m; f++)
                sd2[lcg(&seed) % len2] = (uint8_t)lcg(&seed);
            if (cut > len2) cut = len2;
            if (wfp_sd_valid(sd2, cut)) {
                wfp_sd_format(sd2, cut, out2, sizeof out2);
                (void)wfp_sd_format(sd2, cut, out2, (size_t)(lcg(&seed) % 40));
            }
            (void)wfp_sd_access_check(sd2, cut, tok, tl, lcg(&seed));
        }
        tfree(t, sd);
        tfree(t, sd2);
    }
    assert_true(parsed > 100); /* the loop did exercise the success path */
    tfree(t, tok);
    /* random SID text */
    for (int iter = 0; iter < 5000; iter++) {
        char s[40];
        uint8_t sid[WFP_SID_MAX];
        uint32_t sl;
        size_t n = lcg(&seed) % (sizeof s - 1);
        for (size_t i = 0; i < n; i++) s[i] = "S-1-5x0123456789BAWD"[lcg(&seed) % 20];
        s[n] = 0;
        if (wfp_sid_parse(s, sid, &sl)) {
            assert_true(wfp_sid_valid(sid, sl));
            assert_true(wfp_sid_format(sid, sl, out1, sizeof out1) > 4);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sid_parse_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sddl_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sddl_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sddl_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sd_valid_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sddl_survives_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
