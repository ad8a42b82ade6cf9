/* gnuplot behind the charts (see chart.h): each chart is one gnuplot script, its data in inline
 * datablocks, run in a private temporary folder with the image taken from gnuplot's standard
 * output. The look (sizes, fonts, a palette readable by colour-blind readers, light grid, events
 * behind the data) is set here once for every report and figure.
 *
 * The rule for text in a script. gnuplot runs what is in backquotes (`cmd`) and expands @macros
 * when it reads a command line, inside double quotes too; system(), load, print and set output
 * can run commands or write files. Titles, labels and legend entries come from outside (a --title,
 * the place and category names of a metrics.csv or a store someone sent), so:
 *   - every text reaches the script only through cb_rp_gnuplot_text, as a single-quoted literal:
 *     gnuplot's documentation ("quote marks", "substitution") says backquote substitution and
 *     macro expansion do not happen inside single quotes, and that there a backslash is an
 *     ordinary character and a quote is written doubled (''). gnuplot 5.4's scanner (scanner.c)
 *     takes a doubled quote only right after another character of the literal, so a quote at the
 *     literal's start or right after another quote is preceded by U+200B ZERO WIDTH SPACE, which
 *     draws as nothing;
 *   - a literal never spans lines: control characters (a line break would end the command) are
 *     drawn as spaces, and bytes that are not valid UTF-8 as U+FFFD;
 *   - texts are cut at RP_GNUPLOT_TEXT_MAX bytes (at a character's end, with an ellipsis);
 *   - everything else in a script is contraband's own: keywords, numbers, dates, colours;
 *   - no file name or path is ever written into a script: the data is inline, the image comes
 *     from gnuplot's standard output (there is no `set output`), and contraband writes it to the
 *     file the caller named.
 * fuzz/fuzz_gnuplot.c checks the scripts against these rules with arbitrary texts. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include "report/chart.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/calendar.h"
#include "engine/text.h"
#include "io/files.h"

extern char **environ;

/* Okabe and Ito's colour-blind-safe palette (without its yellow, too pale on white). */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
#define NPALETTE (int)(sizeof palette / sizeof *palette)

int cb_rp_format_of_path(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot) return -1;
  if (!strcmp(dot, ".svg")) return RP_FMT_SVG;
  if (!strcmp(dot, ".png")) return RP_FMT_PNG;
  if (!strcmp(dot, ".pdf")) return RP_FMT_PDF;
  return -1;
}

/* Terminals: the report's SVG scales with the page; files get publication sizes (a 16 x 9 cm
 * figure in PDF, the same at 200 dpi in PNG). */
static void terminal(FILE *f, rp_format fmt, int tall) {
  switch (fmt) {
  case RP_FMT_SVG_INLINE:
    fprintf(f, "set terminal svg size 900,%d dynamic noenhanced font 'DejaVu Sans,11' background rgb 'white'\n", tall ? 520 : 380);
    break;
  case RP_FMT_SVG: fprintf(f, "set terminal svg size 800,%d noenhanced font 'DejaVu Sans,11' background rgb 'white'\n", tall ? 560 : 450); break;
  case RP_FMT_PNG:
    fprintf(f, "set terminal pngcairo size 1260,%d noenhanced font 'DejaVu Sans,18' linewidth 2 background rgb 'white'\n", tall ? 900 : 709);
    break;
  case RP_FMT_PDF: fprintf(f, "set terminal pdfcairo size 16cm,%s noenhanced font 'DejaVu Sans,9' linewidth 1\n", tall ? "12cm" : "9cm"); break;
  }
}

void cb_rp_gnuplot_text(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t left = strlen(s), used = 0;
  int after_quote = 1; /* the opening quote, or a quote of the text, was the last thing written */
  fputc('\'', f);
  while (left > 0) {
    uint32_t cp = 0;
    size_t len = cb_utf8_char(p, left, &cp);
    if (used + (len ? len : 1) > RP_GNUPLOT_TEXT_MAX) {
      fputs("\xE2\x80\xA6", f); /* U+2026 HORIZONTAL ELLIPSIS: the rest is left out */
      break;
    }
    if (!len) fputs(CB_UTF8_REPLACEMENT, f);
    else if (cb_is_control(cp)) fputc(' ', f);
    else if (cp == '\'') fputs(after_quote ? "\xE2\x80\x8B''" : "''", f);
    else fwrite(p, 1, len, f);
    after_quote = len && cp == '\'';
    len = len ? len : 1;
    used += len;
    p += len;
    left -= len;
  }
  fputc('\'', f);
}

static void date_of(int32_t day, char buf[11]) { cb_format_date(day, buf); }

static void common_style(FILE *f, const char *title) {
  fputs("set title ", f);
  cb_rp_gnuplot_text(f, title);
  fputs(" offset 0,1.2\nset border 3 lc rgb '#444444'\nset tics nomirror out\nset grid ytics lc rgb '#dddddd' lw 1 dt 1\n"
        "set key outside right top vertical Left reverse noautotitle samplen 2 spacing 1.1\n"
        "set style fill transparent solid 0.18 noborder\n",
        f);
}

/* Year ticks, fewer when panels are narrow, so that labels never run into each other. */
static void time_axis(FILE *f, const rp_chart *c) {
  char a[11], b[11];
  date_of(c->days[0], a);
  date_of(c->days[c->ndays - 1], b);
  double years = (c->days[c->ndays - 1] - c->days[0]) / 365.25;
  int fit = c->cols >= 4 ? 3 : c->cols >= 2 ? 5 : 10, step = 1;
  while (years / step > fit) step++;
  fprintf(f, "set xdata time\nset timefmt '%%Y-%%m-%%d'\nset format x '%%Y'\nset xrange ['%s':'%s']\n", a, b);
  if (years >= 2) fprintf(f, "set xtics %.0f\nset mxtics %d\n", step * 365.25 * 86400, step > 1 ? step : 4);
}

static void events(FILE *f, const rp_chart *c) {
  int obj = 1, arrow = 1, level = 0;
  for (int i = 0; i < c->nevents; i++) {
    const rp_event *ev = &c->events[i];
    /* labels of events close in time stand on three levels instead of on each other */
    level = i > 0 && ev->start - c->events[i - 1].start < 150 ? (level + 1) % 3 : 0;
    char a[11], b[11];
    date_of(ev->start, a);
    date_of(ev->end, b);
    if (ev->end > ev->start)
      fprintf(f, "set object %d rect from '%s', graph 0 to '%s', graph 1 behind fc rgb '#efe3cf' fs solid 0.6 noborder\n", obj++, a, b);
    else fprintf(f, "set arrow %d from '%s', graph 0 to '%s', graph 1 nohead dt 2 lw 1 lc rgb '#8a6d3b' back\n", arrow++, a, a);
    fprintf(f, "set label %d ", i + 1);
    cb_rp_gnuplot_text(f, ev->label);
    fprintf(f, " at '%s', graph %.2f center font ',8' tc rgb '#8a6d3b'\n", a, 1.03 + 0.045 * level);
  }
  if (c->fork_day != INT32_MIN) {
    char d[11];
    date_of(c->fork_day, d);
    fprintf(f, "set arrow %d from '%s', graph 0 to '%s', graph 1 nohead lw 2 lc rgb '#c00000' front\n", arrow, d, d);
    fprintf(f, "set label %d 'fork' at '%s', graph 0.96 left offset 0.5,0 font ',9' tc rgb '#c00000' front\n", c->nevents + 1, d);
  }
  if (!isnan(c->ref_y)) {
    double y = c->percent ? 100 * c->ref_y : c->ref_y;
    fprintf(f, "set arrow %d from graph 0, first %.10g to graph 1, first %.10g nohead dt 3 lw 1.5 lc rgb '#555555' front\n", arrow + 1, y, y);
    fprintf(f, "set label %d ", c->nevents + 2);
    cb_rp_gnuplot_text(f, c->ref_label);
    fprintf(f, " at graph 0.01, first %.10g offset 0,0.6 font ',9' tc rgb '#555555' front\n", y);
  }
}

/* A line's data: date, median, 5%, 95%, and for stacked layers the boundary below. */
static void datablock(FILE *f, const rp_chart *c, const rp_panel *p, int i) {
  double scale = c->percent ? 100.0 : 1.0;
  fprintf(f, "$L%d << EOD\n", i);
  for (uint32_t d = 0; d < c->ndays; d++) {
    char day[11];
    date_of(c->days[d], day);
    const rp_band *b = &p->lines[i].band;
    double below = c->stacked && i > 0 ? p->lines[i - 1].band.mid[d] : 0.0;
    fprintf(f, "%s %.10g %.10g %.10g %.10g\n", day, scale * b->mid[d], scale * b->lo[d], scale * b->hi[d], scale * below);
  }
  fputs("EOD\n", f);
}

static void plot_lines(FILE *f, const rp_chart *c, const rp_panel *p) {
  fputs("plot ", f);
  int first = 1;
  for (int i = 0; i < p->nlines; i++) {
    const rp_line *l = &p->lines[i];
    const char *color = palette[l->color % NPALETTE];
    if (c->stacked)
      fprintf(f, "%s$L%d using 1:5:2 with filledcurves fc rgb '%s' fs solid 0.55 noborder title ", first ? "" : ", ", i, color);
    else fprintf(f, "%s$L%d using 1:2 with lines lw 2 dt %d lc rgb '%s' title ", first ? "" : ", ", i, l->dashed ? 2 : 1, color);
    cb_rp_gnuplot_text(f, l->label);
    first = 0;
    if (c->bands)
      fprintf(f, ", $L%d using 1:3:4 with filledcurves fc rgb '%s' fs transparent solid %s noborder notitle", i,
              c->stacked ? "#333333" : color, c->stacked ? "0.22" : "0.18");
  }
  fputc('\n', f);
}

/* What one gnuplot script draws: a chart or an interval plot, in a format. */
typedef struct script_job {
  const rp_chart *chart;
  const rp_forest *forest;
  rp_format fmt;
} script_job;

int cb_rp_chart_script(FILE *f, const rp_chart *c, rp_format fmt) {
  terminal(f, fmt, c->npanels > 2);
  common_style(f, c->title);
  time_axis(f, c);
  fputs("set ylabel ", f);
  cb_rp_gnuplot_text(f, c->ylabel);
  fputs(c->percent ? "\nset yrange [0:100]\n" : "\nset yrange [0:*]\n", f);
  fputs("set format y '%.1s%c'\n", f); /* 80.0k, 1.2M: SI prefixes keep tick labels short */
  events(f, c);
  int rows = (c->npanels + c->cols - 1) / c->cols;
  if (c->npanels > 1) {
    fputs("set multiplot layout ", f);
    fprintf(f, "%d,%d title ", rows, c->cols);
    cb_rp_gnuplot_text(f, c->title);
    fputs(" font ',12'\n", f);
  }
  for (int k = 0; k < c->npanels; k++) {
    const rp_panel *p = &c->panels[k];
    if (c->npanels > 1) {
      fputs("set title ", f);
      cb_rp_gnuplot_text(f, p->title);
      fputs(" font ',10' offset 0,1.2\n", f); /* above the events' labels */
      /* every panel has the same lines: one key, above them all, and none for a lone line */
      if (k == 0 && p->nlines > 1) fputs("set key at screen 0.01, screen 0.99 left top horizontal\n", f);
      if (k == 0 && p->nlines == 1) fputs("set key off\n", f);
      if (k == 1) fputs("set key off\n", f);
    }
    for (int i = 0; i < p->nlines; i++) datablock(f, c, p, i);
    plot_lines(f, c, p);
  }
  if (c->npanels > 1) fputs("unset multiplot\n", f);
  return ferror(f) ? -1 : 0;
}

int cb_rp_forest_script(FILE *f, const rp_forest *p, rp_format fmt) {
  terminal(f, fmt, p->n > 10);
  common_style(f, p->title);
  fputs("set key off\nset grid xtics lc rgb '#dddddd'\nset xlabel ", f);
  cb_rp_gnuplot_text(f, p->xlabel);
  fprintf(f, "\nset yrange [%d:0.5]\nset ytics (", p->n > 0 ? p->n : 1);
  for (int i = 0; i < p->n; i++) {
    fputs(i ? ", " : "", f);
    cb_rp_gnuplot_text(f, p->labels[i]);
    fprintf(f, " %d", i + 1);
  }
  fputs(")\nset arrow from first 0, graph 0 to first 0, graph 1 nohead lc rgb '#555555' dt 2\n$F << EOD\n", f);
  for (int i = 0; i < p->n; i++) fprintf(f, "%d %.10g %.10g %.10g\n", i + 1, p->est[i], p->lo[i], p->hi[i]);
  fprintf(f, "EOD\nplot $F using 2:1:3:4 with xerrorbars pt 7 ps 0.8 lw 1.5 lc rgb '%s'\n", palette[0]);
  return ferror(f) ? -1 : 0;
}

static int write_script(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const script_job *j = ctx;
  return j->chart ? cb_rp_chart_script(f, j->chart, j->fmt) : cb_rp_forest_script(f, j->forest, j->fmt);
}

/* ---- running gnuplot ---- */

typedef struct workdir {
  char dir[4096], script[4200], out[4200], err[4200];
} workdir;

static int make_workdir(workdir *w, cb_err *e) {
  const char *tmp = getenv("TMPDIR");
  /* mkdtemp's template: it replaces the trailing six X with a unique name and makes the folder */
  snprintf(w->dir, sizeof w->dir, "%s/contraband-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(w->dir)) return cb_err_set(e, CB_EIO, "%s: cannot make a temporary folder for gnuplot: %s; set TMPDIR to a writable folder", w->dir, strerror(errno));
  snprintf(w->script, sizeof w->script, "%s/chart.gp", w->dir);
  snprintf(w->out, sizeof w->out, "%s/chart.out", w->dir);
  snprintf(w->err, sizeof w->err, "%s/chart.err", w->dir);
  return CB_OK;
}

static void remove_workdir(const workdir *w) {
  unlink(w->script);
  unlink(w->out);
  unlink(w->err);
  rmdir(w->dir);
}

/* What gnuplot said on standard error, its first line or so, for the message. */
static void gnuplot_complaint(const workdir *w, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(w->err, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
  for (char *p = buf; *p; p++)
    if (*p == '\n') *p = ' ';
}

static int spawn_gnuplot(const workdir *w, cb_err *e) {
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa)) return cb_err_set(e, CB_ENOMEM, "cannot start gnuplot: out of memory");
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, w->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, w->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  char *argv[] = {"gnuplot", (char *)w->script, NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc)
    return cb_err_set(e, CB_EIO, "cannot run gnuplot: %s; install it (Debian package gnuplot-nox, scripts/deps.sh installs it)", strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return cb_err_set(e, CB_EIO, "gnuplot: cannot wait for it: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status)) {
    char said[400];
    gnuplot_complaint(w, said, sizeof said);
    return cb_err_set(e, CB_EIO, "gnuplot failed (%s %d): %s", WIFEXITED(status) ? "exit status" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), said[0] ? said : "it printed nothing");
  }
  return CB_OK;
}

/* Renames ids (and the references to them) so that several SVGs can live in one page. */
static char *prefix_ids(const char *svg, size_t len, const char *prefix, size_t *out_len, cb_err *e) {
  static const char *const marks[] = {"id=\"", "id='", "href=\"#", "href='#", "url(#"};
  size_t plen = strlen(prefix), cap = len * 2 + 64, n = 0;
  char *o = cb_xmalloc(e, cap);
  if (!o) return NULL;
  for (size_t i = 0; i < len;) {
    size_t m = 0, k = 0;
    for (; k < sizeof marks / sizeof *marks; k++)
      if (!strncmp(svg + i, marks[k], (m = strlen(marks[k])))) break;
    if (n + m + plen + 1 >= cap) {
      char *g = cb_xrealloc(e, o, cap *= 2);
      if (!g) return free(o), NULL;
      o = g;
    }
    if (k < sizeof marks / sizeof *marks) {
      memcpy(o + n, svg + i, m);
      memcpy(o + n + m, prefix, plen);
      n += m + plen;
      i += m;
    } else o[n++] = svg[i++];
  }
  o[n] = '\0';
  *out_len = n;
  return o;
}

/* gnuplot's SVG as an element for HTML: from "<svg" on, ids prefixed. */
static int inline_svg(char **out, size_t *len, const char *prefix, cb_err *e) {
  char *start = strstr(*out, "<svg");
  if (!start) return cb_err_set(e, CB_EIO, "gnuplot wrote no SVG element");
  size_t n = 0;
  char *svg = prefix_ids(start, *len - (size_t)(start - *out), prefix, &n, e);
  if (!svg) return e->code;
  free(*out);
  *out = svg;
  *len = n;
  return CB_OK;
}

/* cairo stamps a PDF with the time it was made; the same figure should be the same bytes, so the
 * stamp becomes the epoch (same length, so the file's offsets stay right). */
static void fix_pdf_date(char *pdf, size_t len) {
  static const char mark[] = "/CreationDate (D:";
  size_t m = sizeof mark - 1;
  for (size_t i = 0; i + m + 14 <= len; i++)
    if (!memcmp(pdf + i, mark, m)) {
      memcpy(pdf + i + m, "19700101000000", 14);
      return;
    }
}

static int render(const script_job *job, const char *prefix, char **out, size_t *len, cb_err *e) {
  rp_format fmt = job->fmt;
  *out = NULL;
  *len = 0;
  workdir w;
  if (make_workdir(&w, e)) return e->code;
  uint8_t *bytes = NULL;
  if (!cb_atomic_write(w.script, write_script, (void *)job, e) && !spawn_gnuplot(&w, e) && !cb_read_whole(w.out, &bytes, len, e)) {
    *out = (char *)bytes;
    if (*len == 0) cb_err_set(e, CB_EIO, "gnuplot produced no image");
    else if (fmt == RP_FMT_SVG_INLINE) inline_svg(out, len, prefix, e);
    else if (fmt == RP_FMT_PDF) fix_pdf_date(*out, *len);
  }
  remove_workdir(&w);
  if (e->code) {
    free(*out);
    *out = NULL;
  }
  return e->code;
}

int cb_rp_chart_render(const rp_chart *c, rp_format fmt, const char *id_prefix, char **out, size_t *len, cb_err *e) {
  if (c->ndays < 1 || c->npanels < 1) return cb_err_set(e, CB_EMISUSE, "a chart needs at least one period and one panel");
  for (int k = 0; k < c->npanels; k++)
    if (c->panels[k].nlines < 1) return cb_err_set(e, CB_EMISUSE, "chart '%s': a panel has nothing to draw", c->title);
  script_job job = {c, NULL, fmt};
  return render(&job, id_prefix, out, len, e);
}

int cb_rp_forest_render(const rp_forest *p, rp_format fmt, const char *id_prefix, char **out, size_t *len, cb_err *e) {
  if (p->n < 1) return cb_err_set(e, CB_EMISUSE, "an interval plot needs at least one estimate");
  script_job job = {NULL, p, fmt};
  return render(&job, id_prefix, out, len, e);
}

int cb_rp_chart_init(rp_chart *c, int npanels, int cols, cb_err *e) {
  memset(c, 0, sizeof *c);
  c->ref_y = NAN;
  c->fork_day = INT32_MIN;
  c->cols = cols > 0 ? cols : 1;
  if (!(c->panels = cb_xcalloc(e, (size_t)npanels, sizeof *c->panels))) return e->code;
  c->npanels = npanels;
  return CB_OK;
}

int cb_rp_panel_add(rp_panel *p, const char *label, rp_band *band, int color, int dashed, cb_err *e) {
  rp_line *a = cb_xrealloc(e, p->lines, (size_t)(p->nlines + 1) * sizeof *a);
  if (!a) {
    cb_rp_band_free(band);
    return e->code;
  }
  p->lines = a;
  rp_line *l = &a[p->nlines++];
  memset(l, 0, sizeof *l);
  snprintf(l->label, sizeof l->label, "%s", label);
  l->band = *band;
  memset(band, 0, sizeof *band);
  l->color = color;
  l->dashed = dashed;
  return CB_OK;
}

void cb_rp_chart_free(rp_chart *c) {
  for (int k = 0; k < c->npanels; k++) {
    for (int i = 0; i < c->panels[k].nlines; i++) cb_rp_band_free(&c->panels[k].lines[i].band);
    free(c->panels[k].lines);
  }
  free(c->panels);
  memset(c, 0, sizeof *c);
}
