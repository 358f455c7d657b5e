/* Whole-file reads and atomic writes: a temporary file in the destination's
 * directory, written, flushed, fsync'ed and renamed over the final name, so a
 * crash never leaves a half-written file under that name. */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_uint g_tmp_counter;

int io_atomic_open(io_atomic *w, const char *path)
{
    memset(w, 0, sizeof *w);
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty output file name");
    size_t n = strlen(path);
    if (path[n - 1] == '/')
        return ndyn_error(NDYN_EINVAL, "output '%s' names a directory; give a file name", path);
    const char *base = io_basename(path);
    size_t dirlen = (size_t)(base - path);
    w->path = strdup(path);
    w->tmp = malloc(n + 64);
    if (!w->path || !w->tmp) {
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int fd = -1, err = 0;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned c = atomic_fetch_add(&g_tmp_counter, 1u);
        unsigned long tag = (unsigned long)ts.tv_nsec ^ ((unsigned long)c * 2654435761u);
        snprintf(w->tmp, n + 64, "%.*s.%s.tmp%ld_%lx", (int)dirlen, path, base, (long)getpid(),
                 tag & 0xffffffffUL);
        fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        err = errno;
        if (fd < 0 && err != EEXIST) break;
    }
    if (fd < 0) {
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        return ndyn_error(NDYN_EIO, "cannot create a file next to '%s': %s; check that the "
                          "directory exists and is writable", path, strerror(err));
    }
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        err = errno;
        close(fd);
        unlink(w->tmp);
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        return ndyn_error(NDYN_EIO, "cannot open '%s' for writing: %s", path, strerror(err));
    }
    return NDYN_OK;
}

int io_atomic_write(io_atomic *w, const void *buf, size_t n)
{
    if (n && fwrite(buf, 1, n, w->f) != n)
        return ndyn_error(NDYN_EIO, "writing '%s' failed: %s (disk full?)", w->path,
                          strerror(errno));
    return NDYN_OK;
}

void io_atomic_abort(io_atomic *w)
{
    if (w->f) fclose(w->f);
    if (w->tmp) unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    memset(w, 0, sizeof *w);
}

int io_atomic_commit(io_atomic *w)
{
    int err = 0;
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0) err = errno;
    if (fclose(w->f) != 0 && !err) err = errno;
    w->f = NULL;
    if (err) {
        ndyn_error(NDYN_EIO, "writing '%s' failed: %s (disk full?)", w->path, strerror(err));
        io_atomic_abort(w);
        return NDYN_EIO;
    }
    if (rename(w->tmp, w->path) != 0) {
        err = errno;
        ndyn_error(NDYN_EIO, "cannot rename the temporary file to '%s': %s", w->path,
                   strerror(err));
        io_atomic_abort(w);
        return NDYN_EIO;
    }
    /* Make the rename itself durable (best effort). */
    const char *base = io_basename(w->path);
    size_t dirlen = (size_t)(base - w->path);
    char *dir = dirlen ? strndup(w->path, dirlen) : strdup(".");
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(w->tmp);
    free(w->path);
    memset(w, 0, sizeof *w);
    return NDYN_OK;
}

int ndyn_write_file_atomic(const char *path, const void *buf, size_t len)
{
    if (!buf && len) return ndyn_error(NDYN_EINVAL, "no data to write to '%s'", path);
    io_atomic w;
    int rc = io_atomic_open(&w, path);
    if (rc) return rc;
    if ((rc = io_atomic_write(&w, buf, len))) {
        io_atomic_abort(&w);
        return rc;
    }
    return io_atomic_commit(&w);
}

int ndyn_read_file(const char *path, size_t max_bytes, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty input file name");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ndyn_error(NDYN_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ndyn_error(NDYN_EIO, "'%s' is a directory; give a file", path);
    }
    /* Read in growing chunks: works for pipes too, and never trusts st_size. */
    size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX; /* one more: detects "too big" */
    size_t cap = (S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size < SIZE_MAX)
                     ? (size_t)st.st_size + 1 : 65536;
    if (cap > limit) cap = limit;
    unsigned char *p = malloc(cap ? cap : 1);
    size_t n = 0;
    int rc = NDYN_OK;
    if (!p) {
        fclose(f);
        return ndyn_error(NDYN_ENOMEM, "out of memory reading '%s' (%zu bytes)", path, cap);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= limit) break;
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > limit) ncap = limit;
            unsigned char *q = realloc(p, ncap);
            if (!q) {
                rc = ndyn_error(NDYN_ENOMEM, "out of memory reading '%s'", path);
                break;
            }
            p = q;
            cap = ncap;
        }
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = ndyn_error(NDYN_EIO, "reading '%s' failed: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!rc && n > max_bytes)
        rc = ndyn_error(NDYN_EINVAL, "'%s' is larger than the limit of %zu bytes", path,
                        max_bytes);
    if (rc) {
        free(p);
        return rc;
    }
    *buf = p;
    *len = n;
    return NDYN_OK;
}

int io_map_file(const char *path, io_mapped *m)
{
    memset(m, 0, sizeof *m);
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty input file name");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ndyn_error(NDYN_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return ndyn_error(NDYN_EIO, "'%s' is a directory; give a file", path);
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size <= SIZE_MAX) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            m->map = p;
            m->data = p;
            m->len = (size_t)st.st_size;
            return NDYN_OK;
        }
    }
    close(fd);
    void *buf;
    size_t len;
    int rc = ndyn_read_file(path, SIZE_MAX - 1, &buf, &len);
    if (rc) return rc;
    m->heap = buf;
    m->data = buf;
    m->len = len;
    return NDYN_OK;
}

void io_unmap_file(io_mapped *m)
{
    if (m->map) munmap(m->map, m->len);
    free(m->heap);
    memset(m, 0, sizeof *m);
}

int ndyn_make_parent_dirs(const char *path)
{
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty output file name");
    size_t dirlen = (size_t)(io_basename(path) - path);
    if (!dirlen) return NDYN_OK;
    char *d = strndup(path, dirlen);
    if (!d) return ndyn_error(NDYN_ENOMEM, "out of memory");
    /* d ends with '/': create each prefix that ends at a '/', like mkdir -p. */
    int rc = NDYN_OK;
    for (char *p = d + 1; *p && !rc; p++) {
        if (*p != '/') continue;
        *p = '\0';
        struct stat st;
        if (stat(d, &st) != 0) {
            if (mkdir(d, 0777) != 0 && errno != EEXIST)
                rc = ndyn_error(NDYN_EIO, "cannot create directory '%s' for '%s': %s", d, path,
                                strerror(errno));
        } else if (!S_ISDIR(st.st_mode)) {
            rc = ndyn_error(NDYN_EIO, "cannot write '%s': '%s' is not a directory", path, d);
        }
        *p = '/';
    }
    free(d);
    return rc;
}
