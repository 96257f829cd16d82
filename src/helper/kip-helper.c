/*
 * kip-helper: the one static executable the image-puller DaemonSet needs inside pods.
 *
 *   kip-helper install <dir>   copy this executable to <dir>/kip-helper (mode 0755)
 *   kip-helper exit            exit 0 at once
 *   kip-helper sleep           wait for SIGTERM or SIGINT, then exit 0
 *
 * Every cached image gets an init container running `/kip/kip-helper exit`. The kubelet must pull the
 * image to start that container, which is the whole point; the image itself needs no shell, no libc
 * and no particular user, because the code that runs comes from the emptyDir, not from the image.
 * That is why this file links statically and uses nothing beyond a few system calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sysexits.h values, spelled out so the meaning is visible where they are used. */
#define EXIT_USAGE 64
#define EXIT_NO_INPUT 66
#define EXIT_CANT_CREATE 73

static const char usage_text[] =
    "usage: kip-helper install <dir>   copy this executable to <dir>/kip-helper (mode 0755)\n"
    "       kip-helper exit            exit 0 immediately\n"
    "       kip-helper sleep           block until SIGTERM or SIGINT, then exit 0\n";

static int fail(int code, const char *what, const char *path) {
  fprintf(stderr, "kip-helper: %s %s: %s\n", what, path, strerror(errno));
  return code;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * /proc/self/exe is the reliable source inside a container. argv[0] is only a fallback for
 * environments without /proc (the tests run the helper in an empty root directory).
 */
static int open_self(const char *argv0, const char **source) {
  *source = "/proc/self/exe";
  int fd = open(*source, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 || strchr(argv0, '/') == NULL) return fd;
  *source = argv0;
  return open(argv0, O_RDONLY | O_CLOEXEC);
}

/*
 * Writes to a temporary name and renames, so a restarted init container never leaves a half-written
 * executable behind for the next container to run. The mode is set with fchmod because the umask
 * would otherwise decide whether another UID can run the copy.
 */
static int install(const char *argv0, const char *dir) {
  char target[PATH_MAX], partial[PATH_MAX];
  if (snprintf(target, sizeof target, "%s/kip-helper", dir) >= (int)sizeof target ||
      snprintf(partial, sizeof partial, "%s/.kip-helper.%ld", dir, (long)getpid()) >= (int)sizeof partial) {
    fprintf(stderr, "kip-helper: directory path too long: %s\n", dir);
    return EXIT_USAGE;
  }

  const char *source;
  int in = open_self(argv0, &source);
  if (in < 0) return fail(EXIT_NO_INPUT, "cannot open", source);

  /*
   * As PID 1 every restart of the container picks the same temporary name, and the emptyDir outlives the
   * container: a copy killed mid-install (OOM, node crash) leaves its file behind, and O_EXCL alone would
   * then fail on every retry. No other copy can own the name, because init containers run one at a time.
   */
  if (unlink(partial) != 0 && errno != ENOENT) {
    close(in);
    return fail(EXIT_CANT_CREATE, "cannot remove the stale", partial);
  }
  int out = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (out < 0) {
    close(in);
    return fail(EXIT_CANT_CREATE, "cannot create", partial);
  }

  static char buf[64 * 1024];
  int code;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      code = fail(EXIT_NO_INPUT, "cannot read", source);
      goto abandon;
    }
    if (write_all(out, buf, (size_t)n) != 0) {
      code = fail(EXIT_CANT_CREATE, "cannot write", partial);
      goto abandon;
    }
  }
  if (fchmod(out, 0755) != 0) {
    code = fail(EXIT_CANT_CREATE, "cannot chmod", partial);
    goto abandon;
  }
  if (close(out) != 0) {
    out = -1;
    code = fail(EXIT_CANT_CREATE, "cannot close", partial);
    goto abandon;
  }
  close(in);
  if (rename(partial, target) != 0) {
    int code = fail(EXIT_CANT_CREATE, "cannot rename to", target);
    unlink(partial);
    return code;
  }
  return 0;

abandon:
  if (out >= 0) close(out);
  close(in);
  unlink(partial);
  return code;
}

/*
 * As PID 1 of a container a signal without a handler is ignored, so SIGTERM would never stop a plain
 * pause(). Blocking the signals and waiting for them synchronously works for any PID.
 */
static int sleep_until_signalled(void) {
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGINT);
  if (sigprocmask(SIG_BLOCK, &wanted, NULL) != 0) {
    perror("kip-helper: sigprocmask");
    return 1;
  }
  for (;;) {
    int received = 0;
    int err = sigwait(&wanted, &received);
    if (err == 0) return 0;
    if (err != EINTR) {
      errno = err;
      perror("kip-helper: sigwait");
      return 1;
    }
  }
}

int main(int argc, char **argv) {
  const char *command = argc > 1 ? argv[1] : "";

  if (strcmp(command, "exit") == 0 && argc == 2) return 0;
  if (strcmp(command, "sleep") == 0 && argc == 2) return sleep_until_signalled();
  if (strcmp(command, "install") == 0 && argc == 3 && argv[2][0] != '\0') return install(argv[0], argv[2]);
  if ((strcmp(command, "help") == 0 || strcmp(command, "--help") == 0) && argc == 2) {
    fputs(usage_text, stdout);
    return 0;
  }

  fputs(usage_text, stderr);
  return EXIT_USAGE;
}
