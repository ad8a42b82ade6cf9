/* Text from outside (file contents, recorded paths, command-line values) on its way to something
 * that interprets bytes: one UTF-8 decoder, and the rule for terminals built on it. The rules of
 * every writer are listed in docs/robustness.md, section "Text from outside". */
#ifndef CB_ENGINE_TEXT_H
#define CB_ENGINE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8: what stands for bytes that are not valid UTF-8. */
#define CB_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* The length (1 to 4) of the valid UTF-8 character at s, of which n >= 1 bytes remain, with its
 * code point in *cp; 0 if the bytes there are not one (a stray continuation byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, or a sequence cut short). */
size_t cb_utf8_char(const unsigned char *s, size_t n, uint32_t *cp);

/* A control character: C0 (below U+0020), DEL (U+007F) or C1 (U+0080 to U+009F). Terminals act
 * on them (ESC starts an escape sequence; U+009B is a CSI on some terminals), and in a gnuplot
 * script a line break ends the command. */
int cb_is_control(uint32_t cp);

/* s as a terminal may show it: control characters and bytes that are not valid UTF-8 are written
 * as \xNN (one per byte), everything else as it is; into dst (cap >= 1 bytes, NUL-terminated,
 * cut short at a character or escape boundary if it does not fit). Idempotent (a backslash is
 * not escaped), so a message built from messages is escaped once. Returns dst. */
char *cb_text_printable(char *dst, size_t cap, const char *s);

#endif
