/*
 * nfq-delay: a one-direction link delay for kernels without sch_netem.
 *
 * An iptables rule in the raw table's PREROUTING chain hands every IPv4 packet that arrives on
 * one veth end to NFQUEUE queue N (`iptables -t raw -A PREROUTING -i <veth> -j NFQUEUE
 * --queue-num N`). The kernel keeps each queued packet and sends user space a short message
 * about it; the packet moves on only when user space returns a verdict for its id. This program
 * reads those messages, computes when each packet is due (arrival + delay + jitter), and gives
 * the NF_ACCEPT verdict at that moment. Holding happens at *ingress* on purpose: a packet held
 * on egress stays charged to the sending socket (sk_wmem), which throttles TCP to a trickle; at
 * ingress it is already off the sender's books, as on a real wire.
 *
 * API used: libnetfilter_queue 1.0.5, the classic nfq_* interface ("Library setup", "Queue
 * handling", "Message parsing" in its API documentation): nfq_open, nfq_create_queue,
 * nfq_set_mode, nfq_set_queue_maxlen, nfq_fd, nfq_handle_packet, nfq_get_msg_packet_hdr,
 * nfq_set_verdict, nfq_destroy_queue, nfq_close; plus libnfnetlink's nfnl_rcvbufsiz. The kernel
 * side is net/netfilter/nfnetlink_queue.c and include/uapi/linux/netfilter/nfnetlink_queue.h.
 *
 * Jitter (--jitter-ms J, per packet, added to --delay-ms D):
 *   order   (default) A delay *process* d(t) that wanders between random targets D + x
 *           (x from --jitter-dist) at a slope of at most MAX_DELAY_SLOPE ms per ms. Because the
 *           slope is below 1, t + d(t) only grows, so packets leave in the order they came, as
 *           from a FIFO queue at a real bottleneck (where path jitter comes from). The mean delay
 *           stays D whatever the packet rate: unlike "sample per packet, then wait for the
 *           previous one", which under load pushes every packet towards D + J.
 *   reorder netem's model: each packet independently gets D + x and leaves when due, so a packet
 *           can overtake an earlier one when J exceeds the gap between them.
 *   Distributions of x: uniform on [-J, J] (netem's default), or normal with standard deviation J
 *   (netem's `distribution normal`). Delays are clamped at 0.
 *
 * Bounds: at most --max-held packets are held (default MAX_HELD_DEFAULT). A packet beyond that is
 * dropped at once and counted (tail drop, like a full router buffer). Accepting it at once
 * instead would let it overtake the held packets with no delay at all: the link would look
 * faster exactly when it is overloaded. The kernel's own queue limit is set above ours so the
 * kernel never drops silently first.
 *
 * Output: JSON lines on stdout. `{"event":"ready",...}` once the queue is bound;
 * `{"event":"stats",...}` on SIGUSR1 and once more (with "final":true) on exit.
 * Exit: SIGTERM, SIGINT or SIGHUP (or the parent's death, via PR_SET_PDEATHSIG) stops taking new
 * packets past their due times: held packets still get their full delay, then it exits (at most
 * max delay + DRAIN_SLACK_MS later). A second signal releases everything at once.
 *
 * --simulate N: no netfilter at all; N virtual packets arrive --interval-us apart and go through
 * the same scheduler in virtual time. Tests use it to check the jitter models exactly.
 *
 * One file (about 600 lines with comments) on purpose: it is compiled with a single gcc call on
 * first use (build.ts), with no build system to install or keep in step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <linux/netfilter.h> /* NF_ACCEPT, NF_DROP */
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>

/* ---- limits (every buffer and queue has one) ---- */

/** Packets held at once unless --max-held says otherwise: 100 ms of a 100k packets/s flood. */
#define MAX_HELD_DEFAULT 10000u
/** Upper bound for --max-held: each held packet pins a kernel skb (a few kB). */
#define MAX_HELD_LIMIT 1000000u
/** Largest delay or jitter accepted, in ms (a geostationary hop is ~280 ms one way). */
#define MAX_DELAY_MS 10000.0
/**
 * Extra room in the kernel's queue above --max-held: packets the kernel has queued but we have not
 * read yet. We drop (and count) over our cap ourselves; the kernel should not have to.
 */
#define KERNEL_QUEUE_HEADROOM 4096u
/** Netlink receive buffer: a burst of queue messages waits here while we give verdicts. */
#define NETLINK_RCVBUF_BYTES (16u * 1024u * 1024u)
/** Messages read in one go before due packets are released again, so reading never starves them. */
#define READ_BATCH 64
/** How much longer than the largest possible delay a graceful stop waits for held packets. */
#define DRAIN_SLACK_MS 200
/**
 * Steepest change of the delay process in order mode (ms of delay per ms of time). Below 1 keeps
 * packet order; 0.5 lets a 10 ms swing happen within 20 ms.
 */
#define MAX_DELAY_SLOPE 0.5
/** Shortest segment of the delay process, so a tiny jitter cannot make segments vanish. */
#define MIN_SEGMENT_NS 1000000ull
/** Largest --simulate count: a test tool, bounded so a typo cannot run for hours. */
#define SIMULATE_LIMIT 100000000ull
/** Verdict lateness histogram: 1 us buckets up to this many us; later ones land in the last. */
#define LATE_BUCKETS 100000u

#define NS_PER_MS 1000000.0

enum jitter_mode { JITTER_ORDER, JITTER_REORDER };
enum jitter_dist { DIST_UNIFORM, DIST_NORMAL };

struct config {
  unsigned queue;
  double delay_ms;
  double jitter_ms;
  enum jitter_mode mode;
  enum jitter_dist dist;
  uint64_t seed;
  bool seed_given;
  unsigned max_held;
  int rt_priority;   /* 0: normal scheduling */
  long parent_pid;   /* 0: not checked */
  uint64_t simulate; /* 0: real queue */
  double interval_us;
};

/* ---- output helpers ---- */

/** Print "nfq-delay: <message>" and exit: code 2 for a bad command line, 1 for a runtime failure. */
static void fail(int code, const char *fmt, va_list ap) __attribute__((noreturn));
static void fail(int code, const char *fmt, va_list ap) {
  fputs("nfq-delay: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  exit(code);
}

static void die_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail(2, fmt, ap);
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail(1, fmt, ap);
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- random numbers: splitmix64 (Steele, Lea, Flood 2014), small and seedable ---- */

static uint64_t rng_state;

static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/** Uniform in [0, 1). */
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

/** One jitter sample x in ms (see the header comment for the two distributions). */
static double jitter_sample(const struct config *c) {
  if (c->jitter_ms <= 0) return 0;
  if (c->dist == DIST_UNIFORM) return (2 * rng_unit() - 1) * c->jitter_ms;
  /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
  double u1 = 1.0 - rng_unit(), u2 = rng_unit();
  return c->jitter_ms * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---- the delay models ---- */

/** The order-mode delay process: a line from (t0, d0) to (t1, d1), then the next one. */
struct delay_process {
  bool started;
  uint64_t t0, t1;
  double d0, d1; /* ms */
};

static double clamp_delay(double ms) { return ms < 0 ? 0 : ms; }

/** Delay in ms for a packet arriving at `t` (ns). */
static double delay_for(const struct config *c, struct delay_process *p, uint64_t t) {
  if (c->jitter_ms <= 0) return c->delay_ms;
  if (c->mode == JITTER_REORDER) return clamp_delay(c->delay_ms + jitter_sample(c));
  if (!p->started) {
    p->started = true;
    p->t0 = p->t1 = t;
    p->d0 = p->d1 = c->delay_ms;
  }
  /* Walk forward through segments until one covers t; an idle link walks a few at a time. */
  while (t >= p->t1) {
    double target = clamp_delay(c->delay_ms + jitter_sample(c));
    uint64_t len = (uint64_t)(fabs(target - p->d1) / MAX_DELAY_SLOPE * NS_PER_MS);
    if (len < MIN_SEGMENT_NS) len = MIN_SEGMENT_NS;
    p->t0 = p->t1;
    p->d0 = p->d1;
    p->t1 = p->t0 + len;
    p->d1 = target;
  }
  double f = (double)(t - p->t0) / (double)(p->t1 - p->t0);
  return p->d0 + f * (p->d1 - p->d0);
}

/* ---- held packets: a binary min-heap on (due, seq), capacity fixed at start ---- */

struct held {
  uint64_t due;     /* ns, CLOCK_MONOTONIC (virtual in --simulate) */
  uint64_t arrival; /* ns */
  uint64_t seq;     /* arrival order; breaks ties so equal due times keep order */
  uint32_t id;      /* the kernel's packet id, for the verdict */
};

static struct held *heap;
static unsigned heap_len, heap_cap;

static bool held_before(const struct held *a, const struct held *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(struct held h) {
  unsigned i = heap_len++;
  while (i > 0) {
    unsigned parent = (i - 1) / 2;
    if (!held_before(&h, &heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = h;
}

static struct held heap_pop(void) {
  struct held top = heap[0];
  struct held last = heap[--heap_len];
  unsigned i = 0;
  for (;;) {
    unsigned l = 2 * i + 1, r = l + 1, m = i;
    const struct held *best = &last;
    if (l < heap_len && held_before(&heap[l], best)) { m = l; best = &heap[l]; }
    if (r < heap_len && held_before(&heap[r], best)) { m = r; }
    if (m == i) break;
    heap[i] = heap[m];
    i = m;
  }
  if (heap_len > 0) heap[i] = last;
  return top;
}

/* ---- counters ---- */

static struct {
  uint64_t received, released, dropped_cap, enobufs, verdict_errors, reordered, wakeups;
  uint64_t held_max;
  uint64_t max_released_seq;
  bool any_released;
  /* applied delay (due - arrival), in ms */
  double delay_sum, delay_sumsq, delay_min, delay_max;
  /* verdict lateness (verdict time - due), 1 us buckets */
  uint32_t late[LATE_BUCKETS];
  uint64_t late_max_ns;
} st;

static uint64_t next_seq;
static uint64_t last_due; /* order mode guard against ns rounding; see schedule() */

/** Where the scheduler records a packet; returns false when it had to be dropped (cap). */
static bool schedule(const struct config *c, struct delay_process *p, uint64_t now, uint32_t id) {
  st.received++;
  if (heap_len >= heap_cap) {
    st.dropped_cap++;
    return false;
  }
  double d = delay_for(c, p, now);
  uint64_t due = now + (uint64_t)llround(d * NS_PER_MS);
  /* The process's slope keeps due times ordered; rounding to ns must not undo that. */
  if (c->mode == JITTER_ORDER && due < last_due) due = last_due;
  last_due = due;
  double applied = (double)(due - now) / NS_PER_MS;
  if (st.received - st.dropped_cap == 1) st.delay_min = st.delay_max = applied;
  if (applied < st.delay_min) st.delay_min = applied;
  if (applied > st.delay_max) st.delay_max = applied;
  st.delay_sum += applied;
  st.delay_sumsq += applied * applied;
  heap_push((struct held){ .due = due, .arrival = now, .seq = next_seq++, .id = id });
  if (heap_len > st.held_max) st.held_max = heap_len;
  return true;
}

/** Bookkeeping for one packet leaving at `now` (its verdict already given). */
static void note_release(const struct held *h, uint64_t now) {
  st.released++;
  if (st.any_released && h->seq < st.max_released_seq) st.reordered++;
  if (!st.any_released || h->seq > st.max_released_seq) st.max_released_seq = h->seq;
  st.any_released = true;
  uint64_t late = now > h->due ? now - h->due : 0;
  uint64_t bucket = late / 1000;
  st.late[bucket < LATE_BUCKETS ? bucket : LATE_BUCKETS - 1]++;
  if (late > st.late_max_ns) st.late_max_ns = late;
}

static double late_percentile_ms(double p) {
  if (st.released == 0) return 0;
  uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)st.released);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < LATE_BUCKETS; i++) {
    seen += st.late[i];
    if (seen >= rank) {
      /* The bucket's upper edge, but never above the largest lateness actually seen. */
      double edge = (double)(i + 1) / 1000.0, max = (double)st.late_max_ns / NS_PER_MS;
      return edge < max ? edge : max;
    }
  }
  return (double)st.late_max_ns / NS_PER_MS;
}

/** Kernel-side drops for our queue, from /proc/net/netfilter/nfnetlink_queue (this namespace). */
static void kernel_drops(unsigned queue, long long *queue_dropped, long long *user_dropped) {
  *queue_dropped = *user_dropped = -1;
  FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
  if (!f) return;
  unsigned num, portid, total, mode, range, qd, ud, idseq;
  /* Columns: queue, peer portid, queued now, copy mode, copy range, queue_dropped,
   * user_dropped, id sequence, 1 (see nfnetlink_queue.c, seq_show). */
  while (fscanf(f, "%u %u %u %u %u %u %u %u %*d", &num, &portid, &total, &mode, &range, &qd, &ud, &idseq) == 8) {
    if (num == queue) {
      *queue_dropped = qd;
      *user_dropped = ud;
      break;
    }
  }
  fclose(f);
}

static uint64_t start_ns;

static void print_stats(const struct config *c, bool final) {
  uint64_t kept = st.received - st.dropped_cap;
  double mean = kept ? st.delay_sum / (double)kept : 0;
  double var = kept ? st.delay_sumsq / (double)kept - mean * mean : 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  double wall_s = (double)(mono_ns() - start_ns) / 1e9;
  long long qd = -1, ud = -1;
  if (!c->simulate) kernel_drops(c->queue, &qd, &ud);
  printf("{\"event\":\"stats\",\"final\":%s,\"queue\":%u,\"received\":%" PRIu64 ",\"released\":%" PRIu64
         ",\"droppedCap\":%" PRIu64 ",\"held\":%u,\"heldMax\":%" PRIu64 ",\"reordered\":%" PRIu64
         ",\"enobufs\":%" PRIu64 ",\"verdictErrors\":%" PRIu64 ",\"kernelQueueDropped\":%lld,\"kernelUserDropped\":%lld"
         ",\"delayMs\":{\"mean\":%.4f,\"sd\":%.4f,\"min\":%.4f,\"max\":%.4f}"
         ",\"latenessMs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}"
         ",\"wakeups\":%" PRIu64 ",\"cpuSeconds\":%.4f,\"wallSeconds\":%.3f,\"seed\":\"%" PRIu64 "\"}\n",
         final ? "true" : "false", c->queue, st.received, st.released, st.dropped_cap, heap_len, st.held_max,
         st.reordered, st.enobufs, st.verdict_errors, qd, ud, mean, var > 0 ? sqrt(var) : 0, kept ? st.delay_min : 0,
         kept ? st.delay_max : 0, late_percentile_ms(50), late_percentile_ms(99), (double)st.late_max_ns / NS_PER_MS,
         st.wakeups, cpu_s, wall_s, c->seed);
  fflush(stdout);
}

/* ---- argument parsing: every value checked, every error says what was wrong ---- */

static double parse_num(const char *flag, const char *v, double min, double max) {
  char *end = NULL;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end != '\0' || !isfinite(d)) die_usage("%s wants a number, got \"%s\"", flag, v);
  if (d < min || d > max) die_usage("%s must be within %g..%g, got %s", flag, min, max, v);
  return d;
}

static uint64_t parse_int(const char *flag, const char *v, uint64_t min, uint64_t max) {
  char *end = NULL;
  errno = 0;
  if (*v < '0' || *v > '9') die_usage("%s wants a non-negative integer, got \"%s\"", flag, v);
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end != '\0') die_usage("%s wants a non-negative integer, got \"%s\"", flag, v);
  if (n < min || n > max) die_usage("%s must be within %" PRIu64 "..%" PRIu64 ", got %s", flag, min, max, v);
  return (uint64_t)n;
}

static void usage_exit(int code) {
  fputs("usage: nfq-delay --queue N --delay-ms D [--jitter-ms J] [--jitter-mode order|reorder]\n"
        "                 [--jitter-dist uniform|normal] [--seed S] [--max-held N] [--rt-priority P]\n"
        "                 [--parent-pid PID] [--simulate COUNT --interval-us US]\n", code ? stderr : stdout);
  exit(code);
}

static struct config parse_args(int argc, char **argv) {
  struct config c = { .queue = UINT_MAX, .delay_ms = -1, .mode = JITTER_ORDER, .dist = DIST_UNIFORM,
                      .max_held = MAX_HELD_DEFAULT, .interval_us = 1000 };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) usage_exit(0);
    if (i + 1 >= argc) die_usage("%s needs a value (or is unknown); --help lists the options", a);
    const char *v = argv[++i];
    if (!strcmp(a, "--queue")) c.queue = (unsigned)parse_int(a, v, 0, 65535);
    else if (!strcmp(a, "--delay-ms")) c.delay_ms = parse_num(a, v, 0, MAX_DELAY_MS);
    else if (!strcmp(a, "--jitter-ms")) c.jitter_ms = parse_num(a, v, 0, MAX_DELAY_MS);
    else if (!strcmp(a, "--jitter-mode")) {
      if (!strcmp(v, "order")) c.mode = JITTER_ORDER;
      else if (!strcmp(v, "reorder")) c.mode = JITTER_REORDER;
      else die_usage("--jitter-mode is order or reorder, got \"%s\"", v);
    } else if (!strcmp(a, "--jitter-dist")) {
      if (!strcmp(v, "uniform")) c.dist = DIST_UNIFORM;
      else if (!strcmp(v, "normal")) c.dist = DIST_NORMAL;
      else die_usage("--jitter-dist is uniform or normal, got \"%s\"", v);
    } else if (!strcmp(a, "--seed")) { c.seed = parse_int(a, v, 0, UINT64_MAX); c.seed_given = true; }
    else if (!strcmp(a, "--max-held")) c.max_held = (unsigned)parse_int(a, v, 1, MAX_HELD_LIMIT);
    else if (!strcmp(a, "--rt-priority")) c.rt_priority = (int)parse_int(a, v, 0, 99);
    else if (!strcmp(a, "--parent-pid")) c.parent_pid = (long)parse_int(a, v, 1, INT_MAX);
    else if (!strcmp(a, "--simulate")) c.simulate = parse_int(a, v, 1, SIMULATE_LIMIT);
    else if (!strcmp(a, "--interval-us")) c.interval_us = parse_num(a, v, 0.001, 1e9);
    else die_usage("unknown option %s; --help lists the options", a);
  }
  if (c.delay_ms < 0) die_usage("--delay-ms is required");
  if (!c.simulate && c.queue == UINT_MAX) die_usage("--queue is required");
  if (c.queue == UINT_MAX) c.queue = 0;
  if (c.jitter_ms > c.delay_ms) {
    die_usage("--jitter-ms (%g) must not exceed --delay-ms (%g): a packet cannot leave before it arrived", c.jitter_ms, c.delay_ms);
  }
  if (!c.seed_given && getrandom(&c.seed, sizeof c.seed, 0) != (ssize_t)sizeof c.seed) c.seed = (uint64_t)mono_ns();
  return c;
}

/* ---- simulation: the same scheduler on virtual time ---- */

static int simulate(const struct config *c) {
  struct delay_process proc = { 0 };
  for (uint64_t i = 0; i < c->simulate; i++) {
    uint64_t t = (uint64_t)llround((double)i * c->interval_us * 1000.0);
    while (heap_len > 0 && heap[0].due <= t) {
      struct held h = heap_pop();
      note_release(&h, h.due);
    }
    schedule(c, &proc, t, (uint32_t)i);
  }
  while (heap_len > 0) {
    struct held h = heap_pop();
    note_release(&h, h.due);
  }
  print_stats(c, true);
  return 0;
}

/* ---- the real queue ---- */

static struct nfq_q_handle *qh;
static const struct config *cfg;
static struct delay_process proc;

/** Called by nfq_handle_packet for each queued packet (nfq_callback, "Queue handling"). */
static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id); /* network byte order on the wire */
  if (!schedule(cfg, &proc, mono_ns(), id)) {
    if (nfq_set_verdict(q, id, NF_DROP, 0, NULL) < 0) st.verdict_errors++;
  }
  return 0;
}

/** Give the verdict for every held packet due by `now` (or all of them when `all`). */
static void release_due(bool all) {
  uint64_t now = mono_ns();
  while (heap_len > 0 && (all || heap[0].due <= now)) {
    struct held h = heap_pop();
    if (nfq_set_verdict(qh, h.id, NF_ACCEPT, 0, NULL) < 0) st.verdict_errors++;
    now = mono_ns();
    note_release(&h, now);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct config c = parse_args(argc, argv);
  cfg = &c;
  rng_state = c.seed;
  heap_cap = c.max_held;
  heap = calloc(heap_cap, sizeof *heap);
  if (!heap) die("cannot allocate room for %u held packets", heap_cap);
  start_ns = mono_ns();
  if (c.simulate) return simulate(&c);

  /* Stop with the parent (the harness): a parent killed by SIGKILL cannot stop us itself. */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) die("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
  if (c.parent_pid && getppid() != c.parent_pid) die("parent %ld already gone", c.parent_pid);
  /* Our timers should fire when asked: no slack added for a normal-priority thread. */
  prctl(PR_SET_TIMERSLACK, 1UL);
  if (c.rt_priority > 0) {
    struct sched_param sp = { .sched_priority = c.rt_priority };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) die("SCHED_FIFO priority %d: %s", c.rt_priority, strerror(errno));
  }

  /* Signals arrive as readable events on a descriptor, in the same loop as the packets. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) die("sigprocmask: %s", strerror(errno));
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd: %s", strerror(errno));

  /* "Library setup": one netlink handle; binding per protocol family is obsolete since 3.8. */
  struct nfq_handle *h = nfq_open();
  if (!h) die("nfq_open: %s (needs CAP_NET_ADMIN and nfnetlink_queue in the kernel)", strerror(errno));
  qh = nfq_create_queue(h, (uint16_t)c.queue, &on_packet, NULL);
  if (!qh) die("cannot bind NFQUEUE %u: %s (another process holds it, or no CAP_NET_ADMIN)", c.queue, strerror(errno));
  /* Metadata only: the verdict needs the id, not the payload, so nothing is copied. */
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) die("nfq_set_mode: %s", strerror(errno));
  /* The kernel's default limit is 1024 queued packets (NFQNL_QMAX_DEFAULT); we hold more. */
  if (nfq_set_queue_maxlen(qh, c.max_held + KERNEL_QUEUE_HEADROOM) < 0) die("nfq_set_queue_maxlen: %s", strerror(errno));
  nfnl_rcvbufsiz(nfq_nfnlh(h), NETLINK_RCVBUF_BYTES);
  int fd = nfq_fd(h);

  printf("{\"event\":\"ready\",\"pid\":%d,\"queue\":%u,\"delayMs\":%g,\"jitterMs\":%g,\"jitterMode\":\"%s\","
         "\"jitterDist\":\"%s\",\"maxHeld\":%u,\"rtPriority\":%d,\"seed\":\"%" PRIu64 "\"}\n",
         getpid(), c.queue, c.delay_ms, c.jitter_ms, c.mode == JITTER_ORDER ? "order" : "reorder",
         c.dist == DIST_UNIFORM ? "uniform" : "normal", c.max_held, c.rt_priority, c.seed);

  /* Buffer for one netlink message: COPY_META messages are ~100-200 bytes; this is plenty. */
  static char buf[65536] __attribute__((aligned));
  bool stopping = false;
  uint64_t drain_deadline = 0;
  const uint64_t longest_ns = (uint64_t)((c.delay_ms + 4 * c.jitter_ms + DRAIN_SLACK_MS) * NS_PER_MS);

  for (;;) {
    release_due(false);
    uint64_t now = mono_ns();
    if (stopping && (heap_len == 0 || now >= drain_deadline)) break;

    struct timespec ts, *tsp = NULL;
    if (heap_len > 0) {
      uint64_t wait = heap[0].due > now ? heap[0].due - now : 0;
      ts.tv_sec = (time_t)(wait / 1000000000ull);
      ts.tv_nsec = (long)(wait % 1000000000ull);
      tsp = &ts;
    }
    /* ppoll takes a nanosecond timeout (poll only has milliseconds). */
    struct pollfd fds[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    int n = ppoll(fds, 2, tsp, NULL);
    st.wakeups++;
    if (n < 0) {
      if (errno == EINTR) continue;
      die("ppoll: %s", strerror(errno));
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGUSR1) {
          print_stats(&c, false);
        } else if (stopping) {
          release_due(true); /* second stop signal: let everything go now */
        } else {
          stopping = true;
          drain_deadline = mono_ns() + longest_ns;
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      for (int k = 0; k < READ_BATCH; k++) {
        ssize_t rv = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (rv >= 0) {
          nfq_handle_packet(h, buf, (int)rv);
          continue;
        }
        if (errno == ENOBUFS) {
          /* The socket buffer overflowed: the kernel dropped those packets (user_dropped). */
          st.enobufs++;
          continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        die("recv on the queue socket: %s", strerror(errno));
      }
    }
  }
  release_due(true);
  print_stats(&c, true);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
