/* Text from outside (see text.h). */
#include "engine/text.h"

#include <stdio.h>
#include <string.h>

#include "contraband.h"

size_t cb_utf8_char(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1Fu, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0Fu, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07u, min = 0x10000;
  else return 0; /* a continuation byte, C0, C1 (overlong) or F5-FF */
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

int cb_is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

char *cb_text_printable(char *dst, size_t cap, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t left = strlen(s), n = 0;
  while (left > 0) {
    uint32_t cp = 0;
    size_t len = cb_utf8_char(p, left, &cp);
    if (len && !cb_is_control(cp)) {
      if (n + len >= cap) break;
      memcpy(dst + n, p, len);
      n += len;
      p += len;
      left -= len;
      continue;
    }
    /* an invalid byte, or each byte of a control character */
    size_t bytes = len ? len : 1;
    if (n + 4 * bytes >= cap) break;
    for (size_t i = 0; i < bytes; i++) {
      snprintf(dst + n, 5, "\\x%02X", p[i]);
      n += 4;
    }
    p += bytes;
    left -= bytes;
  }
  dst[n] = '\0';
  return dst;
}

const char *cb_printable(const char *s, char *buf, size_t cap) {
  if (!buf || cap == 0) return "";
  return cb_text_printable(buf, cap, s ? s : "(null)");
}
