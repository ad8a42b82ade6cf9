/* Benchmark: runs scenarios through the library, one child process each so every peak-memory
 * figure is that scenario's alone, and prints wall time, simulated agent-days per second, peak
 * resident memory and bytes per buyer; and ensemble throughput (runs stored per second) for a
 * number of jobs. Targets live here and in the README, never in tests.
 * Usage: cb_bench SCENARIO.yaml [...]
 *        cb_bench --ensemble SCENARIO.yaml RUNS JOBS DB   (bench/run.sh runs the standard set) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contraband.h"

typedef struct result {
  double wall, agent_days, estimate;
  long long buyers, agents, maxrss_kb;
  int days;
} result;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void child(const char *path, int out) {
  cb_sim *S = cb_new();
  double t0 = now();
  if (!S || cb_read_scenario(S, path) || cb_init(S) || cb_run(S)) {
    fprintf(stderr, "cb_bench: %s: %s\n", path, cb_errmsg(S));
    _exit(1);
  }
  result r = {0};
  r.wall = now() - t0;
  cb_totals t;
  cb_get_totals(S, &t);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  r.days = t.days_simulated;
  r.buyers = t.buyers;
  r.agents = t.buyers + t.traders_max + t.middlemen + t.officials;
  r.maxrss_kb = ru.ru_maxrss;
  r.estimate = cb_memory_estimate(S);
  if (write(out, &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
  cb_free(S);
  _exit(0);
}

static int bench_one(const char *path) {
  int fd[2];
  if (pipe(fd)) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    close(fd[0]);
    child(path, fd[1]);
  }
  close(fd[1]);
  result r;
  ssize_t n = read(fd[0], &r, sizeof r);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != (ssize_t)sizeof r || !WIFEXITED(status) || WEXITSTATUS(status)) return 1;
  double agent_days = (double)r.agents * r.days;
  double rss = (double)r.maxrss_kb * 1024.0;
  printf("%-34s buyers %9lld  days %5d  wall %7.2f s  %10.3g agent-days/s  peak RSS %7.1f MiB  %6.1f B/buyer  estimated %7.1f MiB\n",
         path, r.buyers, r.days, r.wall, agent_days / r.wall, rss / 1048576.0, rss / (double)r.buyers, r.estimate / 1048576.0);
  fflush(stdout);
  return 0;
}

/* Runs an ensemble into a new store and prints runs stored per second. */
static int bench_ensemble(const char *path, int runs, int jobs, const char *db) {
  unlink(db);
  cb_experiment *X = cb_experiment_new();
  if (!X) return 1;
  cb_experiment_scenario(X, path);
  double t0 = now();
  if (cb_experiment_ensemble(X, db, (uint32_t)runs, jobs)) {
    fprintf(stderr, "cb_bench: ensemble of %s: %s\n", path, cb_experiment_errmsg(X));
    cb_experiment_free(X);
    return 1;
  }
  double wall = now() - t0;
  cb_experiment_free(X);
  printf("ensemble %-25s runs %4d  jobs %2d  wall %7.2f s  %7.3f runs/s\n", path, runs, jobs, wall, runs / wall);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && !strcmp(argv[1], "--ensemble")) return bench_ensemble(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
  if (argc < 2) {
    fprintf(stderr, "usage: cb_bench SCENARIO.yaml [...] | cb_bench --ensemble SCENARIO.yaml RUNS JOBS DB\n");
    return 2;
  }
  int rc = 0;
  for (int i = 1; i < argc; i++) rc |= bench_one(argv[i]);
  return rc;
}
