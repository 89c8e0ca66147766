/* wfp_value.h — GUIDs, FWP values, condition values and how they match.
 *
 * The C shapes of FWP_VALUE0, FWP_CONDITION_VALUE0 and
 * FWPM_FILTER_CONDITION0, plus the text forms wfpsim reads and prints
 * (addresses, SIDs, SDDL, application paths). Descriptors are plain structs
 * that borrow their pointers; the engine deep-copies what it keeps
 * (wfpi_condition_copy). Nothing here has global state or does I/O. */
#ifndef WFP_VALUE_H
#define WFP_VALUE_H

#include "wfp_types.h"

/* ---- allocator -------------------------------------------------------- */
/* Every allocation in core/ goes through one of these, so tests can fail
 * the n-th allocation and prove nothing is half-applied. */
typedef struct wfp_allocator {
    void *(*alloc)(void *ctx, size_t size);        /* NULL on failure */
    void *(*realloc)(void *ctx, void *p, size_t size);
    void (*free)(void *ctx, void *p);
    void *ctx;
} wfp_allocator;

/* malloc/realloc/free. */
const wfp_allocator *wfp_allocator_default(void);

/* ---- GUID ------------------------------------------------------------- */
typedef struct wfp_guid {
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
} wfp_guid;

#define WFP_GUID_STRLEN 39 /* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" + NUL */

/* Accepts "{8-4-4-4-12}" or the same without braces, any case. */
bool wfp_guid_parse(const char *s, wfp_guid *out);
/* Lower-case, with braces; out must hold WFP_GUID_STRLEN bytes. */
void wfp_guid_format(const wfp_guid *g, char *out);
/* The 16 bytes as Windows keeps a GUID in memory (Data1..Data3
 * little-endian), as BYTE_ARRAY16 fields that hold GUIDs carry them. */
void wfp_guid_to_bytes(const wfp_guid *g, uint8_t out[16]);
int wfp_guid_cmp(const wfp_guid *a, const wfp_guid *b);
bool wfp_guid_eq(const wfp_guid *a, const wfp_guid *b);
bool wfp_guid_is_null(const wfp_guid *g);
/* Deterministic key for an object that a scenario names without a key:
 * the same (kind, name) gives the same GUID on every platform. The
 * derivation is sim-defined (docs/sim-defined.md). */
void wfp_guid_from_name(const char *kind, const char *name, wfp_guid *out);

/* ---- values ----------------------------------------------------------- */
typedef struct wfp_byte_blob {
    uint32_t size;
    const uint8_t *data;
} wfp_byte_blob;

/* FWP_VALUE0. Blob-like types (BYTE_BLOB, SID, SECURITY_DESCRIPTOR,
 * TOKEN_INFORMATION, TOKEN_ACCESS_INFORMATION, UNICODE_STRING) use `blob`:
 *  - FWP_SID: a binary SID (revision, count, authority, sub-authorities);
 *  - FWP_SECURITY_DESCRIPTOR_TYPE: a self-relative binary SD;
 *  - FWP_TOKEN_INFORMATION_TYPE / FWP_TOKEN_ACCESS_INFORMATION_TYPE: the
 *    token of a user, encoded as binary SIDs back to back, the user's SID
 *    first, then its groups (sim-defined encoding, see docs/sim-defined.md);
 *  - FWP_UNICODE_STRING_TYPE: UTF-8 text, size without a terminator.
 * FWP_BYTE_BLOB_TYPE for ALE_APP_ID holds what Windows holds: the
 * lower-case NT device path in UTF-16LE with its terminating NUL. */
typedef struct wfp_value {
    uint32_t type; /* FWP_DATA_TYPE, < FWP_SINGLE_DATA_TYPE_MAX */
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32; /* IPv4 addresses in host order, as in WFP */
        uint64_t u64;
        int8_t i8;
        int16_t i16;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t bytes16[16]; /* IPv6 address, network order */
        uint8_t bytes6[6];   /* MAC address */
        wfp_byte_blob blob;
    } v;
} wfp_value;

/* FWP_CONDITION_VALUE0. For type < FWP_SINGLE_DATA_TYPE_MAX, `u.value`
 * holds it (and u.value.type == type). */
typedef struct wfp_condition_value {
    uint32_t type;
    union {
        wfp_value value;
        struct {
            uint32_t addr; /* host order */
            uint32_t mask; /* host order */
        } v4;
        struct {
            uint8_t addr[16];
            uint8_t prefix_length; /* 0..128 */
        } v6;
        struct {
            wfp_value low;
            wfp_value high;
        } range; /* inclusive; low.type == high.type */
    } u;
} wfp_condition_value;

/* FWPM_FILTER_CONDITION0. */
typedef struct wfp_condition {
    wfp_guid field_key;
    uint32_t match_type; /* FWP_MATCH_* */
    wfp_condition_value value;
} wfp_condition;

/* ---- validation and matching ----------------------------------------- */

/* Can a condition with this match type and value stand on a field whose
 * incoming values have type `field_data_type` (the FWPM_FIELD0 dataType of
 * the layer)? Returns ERROR_SUCCESS or the FWP_E_* / Win32 code
 * FwpmFilterAdd0 gives: FWP_E_MATCH_TYPE_MISMATCH, FWP_E_TYPE_MISMATCH,
 * FWP_E_INVALID_NET_MASK, FWP_E_INVALID_RANGE, ERROR_INVALID_SECURITY_DESCR,
 * ERROR_INVALID_SID, FWP_E_INVALID_PARAMETER… (spec §2.2). */
uint32_t wfp_condition_validate(uint32_t field_data_type, uint32_t match_type,
                                const wfp_condition_value *c);

/* One condition against one incoming value, with Windows' semantics
 * (spec §2.3–2.4): a typed condition never matches an FWP_EMPTY value;
 * PREFIX/NOT_PREFIX test suffixes; SD conditions run an access check of
 * the token for FWP_ACTRL_MATCH_FILTER. `c` must have been validated. */
bool wfp_condition_match(uint32_t match_type, const wfp_condition_value *c,
                         const wfp_value *v);

/* ---- copies (engine-owned storage) ------------------------------------ */
/* Deep copy of a condition value / value; the copy is freed with
 * wfpi_value_free. Returns false (and leaves *dst freeable) when an
 * allocation fails. */
bool wfpi_condition_value_copy(const wfp_allocator *a, wfp_condition_value *dst,
                               const wfp_condition_value *src);
void wfpi_condition_value_free(const wfp_allocator *a, wfp_condition_value *v);
bool wfpi_value_copy(const wfp_allocator *a, wfp_value *dst, const wfp_value *src);
void wfpi_value_free(const wfp_allocator *a, wfp_value *v);
/* Structural equality (types and bytes). */
bool wfp_value_equal(const wfp_value *a, const wfp_value *b);
bool wfp_condition_value_equal(const wfp_condition_value *a, const wfp_condition_value *b);

/* ---- names ------------------------------------------------------------ */
const char *wfp_data_type_name(uint32_t type);   /* "FWP_UINT16"; NULL if unknown */
bool wfp_data_type_from_name(const char *name, uint32_t *type); /* "FWP_UINT16" or "uint16" */
const char *wfp_match_type_name(uint32_t match); /* "FWP_MATCH_EQUAL" */
bool wfp_match_type_from_name(const char *name, uint32_t *match); /* "equal" or "FWP_MATCH_EQUAL", any case */
const char *wfp_action_type_name(uint32_t action); /* "FWP_ACTION_PERMIT" */

/* ---- text forms ------------------------------------------------------- */
/* Stable, locale-independent printing (used by golden tests, JSON, DOT):
 * integers in decimal, addresses dotted / RFC 5952, masks as a/len, ranges
 * as "low-high", SIDs as S-1-…, SDs as SDDL, app ids as their path, blobs
 * as hex. Writes at most n bytes including the NUL and returns the length
 * the full text needs (snprintf style). */
size_t wfp_value_format(const wfp_value *v, char *buf, size_t n);
size_t wfp_condition_value_format(const wfp_condition_value *c, char *buf, size_t n);

bool wfp_ipv4_parse(const char *s, uint32_t *host_order);
bool wfp_ipv6_parse(const char *s, uint8_t out[16]);
/* Either form: out gets 16 bytes (IPv4 in the first 4, network order, the
 * rest zero) and *ip_version 4 or 6. */
bool wfp_ip_address_parse(const char *s, uint8_t out[16], uint8_t *ip_version);

/* SIDs: "S-1-5-21-1-2-3-1001" and the SDDL aliases (BA, SY, WD, AU, LS,
 * NS, BU, IU, …). A binary SID is at most WFP_SID_MAX bytes. */
#define WFP_SID_MAX 68
bool wfp_sid_parse(const char *s, uint8_t *out, uint32_t *len);
size_t wfp_sid_format(const uint8_t *sid, uint32_t len, char *buf, size_t n);
bool wfp_sid_valid(const uint8_t *sid, uint32_t len);

/* SDDL ("O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)") to a self-relative binary
 * security descriptor allocated with `a`. Returns ERROR_SUCCESS,
 * ERROR_INVALID_SECURITY_DESCR (with *err_offset at the bad character) or
 * ERROR_NOT_ENOUGH_MEMORY. */
uint32_t wfp_sddl_parse(const wfp_allocator *a, const char *sddl, uint8_t **sd,
                        uint32_t *sd_len, size_t *err_offset);
size_t wfp_sd_format(const uint8_t *sd, uint32_t len, char *buf, size_t n);
bool wfp_sd_valid(const uint8_t *sd, uint32_t len);
/* Access check of a token (FWP_TOKEN_* encoding above) against an SD:
 * true if every bit of `desired` is granted by the DACL (deny ACEs first in
 * ACL order, as Windows evaluates them; a NULL DACL grants everything). */
bool wfp_sd_access_check(const uint8_t *sd, uint32_t sd_len, const uint8_t *token,
                         uint32_t token_len, uint32_t desired);

/* The same check over an inheritance chain: sds[0] is the object's own SD
 * (entries may be NULL: no SD at that level), then its container's, then
 * the engine's. The owner is the first owner in the chain; the DACLs'
 * ACEs are walked in chain order, stopping after a protected DACL
 * (SE_DACL_PROTECTED, "D:P"); a level whose SD has a NULL DACL grants
 * everything. `implicit` bits are granted regardless (privileges). */
bool wfp_sd_access_check_chain(const uint8_t *const *sds, const uint32_t *lens, size_t n, const uint8_t *token,
                               uint32_t token_len, uint32_t desired, uint32_t implicit);

/* Build a token blob from SID strings (user first). Allocated with `a`. */
bool wfp_token_build(const wfp_allocator *a, const char *const *sids, size_t count,
                     uint8_t **token, uint32_t *token_len);

/* Application id as ALE_APP_ID carries it: a Windows path
 * ('C:\Program Files\App\app.exe') becomes the lower-case device path
 * '\device\harddiskvolumeN\program files\app\app.exe' in UTF-16LE with a
 * terminating NUL; drive letter X maps to volume (X - 'A' + 1) unless
 * `volume_of_drive` (26 entries, 0 = default) says otherwise. Paths that
 * already start with '\device\' are only lower-cased. Allocated with `a`. */
bool wfp_app_id_from_path(const wfp_allocator *a, const char *path,
                          const uint8_t *volume_of_drive, uint8_t **blob, uint32_t *len);
/* UTF-16LE app id back to UTF-8 text for printing. */
size_t wfp_app_id_format(const uint8_t *blob, uint32_t len, char *buf, size_t n);

#endif
