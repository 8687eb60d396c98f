/* Writing a blob file in one call: create the temporary file, write every byte, close, rename into place.
 *
 * Why in C: from Python that is four system calls (open, write, close, rename), and each gives up the
 * GIL and takes it back; with deliveries parsing in other threads, every take-back is a wait and a
 * context switch (measured: about 11 voluntary switches per delivered message with 16 delivering
 * threads). cffi releases the GIL once around this call. The semantics are exactly those of
 * ``BlobStore.write`` in imapcore/store/blobs.py (its Python path is the reference): O_EXCL creation with
 * mode 0600, a short write retried, EINTR retried, the temporary file removed on any failure.
 *
 * Returns 0, or the errno of the step that failed.
 *
 * ``imc_write_new_file`` first checks that nothing is at ``final`` yet and returns EEXIST if something
 * is (the caller then checks that file's hash: ``BlobStore.write_new``), so a delivery of a new blob makes
 * one call in all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stddef.h>
#include <unistd.h>

/* Write every byte to ``fd`` (open on ``temporary``), close it and rename ``temporary`` to ``final``;
 * ``temporary`` is removed on any failure. 0 or an errno. */
static int fill_and_place(int fd, const char *temporary, const char *final, const char *data, size_t length)
{
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, data + done, length - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = errno;
            close(fd);
            unlink(temporary);
            return error;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 && errno != EINTR) {
        int error = errno;
        unlink(temporary);
        return error;
    }
    if (rename(temporary, final) != 0) {
        int error = errno;
        unlink(temporary);
        return error;
    }
    return 0;
}

int imc_write_file(const char *temporary, const char *final, const char *data, size_t length)
{
    int fd;
    do {
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return errno;
    }
    return fill_and_place(fd, temporary, final, data, length);
}

int imc_write_new_file(const char *temporary, const char *final, const char *data, size_t length)
{
    if (access(final, F_OK) == 0) {
        return EEXIST;
    }
    if (errno != ENOENT) {
        return errno;
    }
    return imc_write_file(temporary, final, data, length);
}

/* Which of ``count`` files exist: ``paths`` holds their NUL-terminated paths one after the other;
 * missing[i] becomes 1 for each one that does not (stat fails with ENOENT or ENOTDIR). Returns 0, or the
 * errno of a stat that failed otherwise. One call (one release of the GIL) for a whole batch of
 * deliveries, where os.path.exists took the GIL back after every file. */
int imc_missing_files(const char *paths, size_t count, unsigned char *missing)
{
    struct stat info;
    const char *path = paths;
    for (size_t i = 0; i < count; i++) {
        if (stat(path, &info) == 0) {
            missing[i] = 0;
        } else if (errno == ENOENT || errno == ENOTDIR) {
            missing[i] = 1;
        } else {
            return errno;
        }
        while (*path) {
            path++;
        }
        path++;
    }
    return 0;
}

static const char *next_path(const char *path)
{
    while (*path) {
        path++;
    }
    return path + 1;
}

/* Remove ``count`` files: ``paths`` as for imc_missing_files. The first ``keep`` of them are not
 * unlinked but renamed to the paths of ``pooled`` (the same layout), for imc_write_pooled_file to write
 * a later blob into: on this kind of file system creating a file costs far more than renaming one
 * (ext4 without a journal skips every recently deleted inode when it allocates one: 0.4 ms of system
 * time per file on the test machine, against 0.02 ms for a rename). removed[i] becomes 1 for each file
 * removed, 0 for one that was not there (ENOENT). Returns 0, or the errno of a step that failed
 * otherwise (the files before it are gone, the ones after it untouched). One call (one release of the
 * GIL) for a whole blob collection, which runs holding the store's writer lock: os.unlink took the GIL
 * back after every file, each time waiting for the event loop to give it up. */
int imc_retire_files(const char *paths, const char *pooled, size_t count, size_t keep, unsigned char *removed)
{
    const char *path = paths;
    const char *pool = pooled;
    for (size_t i = 0; i < count; i++) {
        int failed = i < keep ? rename(path, pool) : unlink(path);
        if (!failed) {
            removed[i] = 1;
        } else if (errno == ENOENT) {
            removed[i] = 0;
        } else {
            return errno;
        }
        path = next_path(path);
        if (i < keep) {
            pool = next_path(pool);
        }
    }
    return 0;
}

/* ``imc_write_new_file`` into a file retired by imc_retire_files instead of a new one: checks that
 * nothing is at ``final`` (EEXIST), takes ``pooled`` by renaming it to ``temporary`` (-1 if it is gone:
 * another process took it), writes every byte over the old ones, closes and renames it into place. The
 * temporary file is removed on any failure after it was taken. Returns 0, -1 or an errno.
 *
 * Not O_TRUNC: on ext4 truncating a file to nothing frees its blocks and marks it so that close() starts
 * its writeback at once (auto_da_alloc), which cost ~110 us of CPU per 20 KB blob on the test machine,
 * against ~50 us to overwrite the blocks in place. A file longer than the new blob is first cut to its
 * length (not to 0, which would set that flag again); cutting frees blocks too, which is why the pool
 * hands out files no longer than the new blob when it has one (``BlobStore._take_pooled``): then there
 * is nothing to cut. (A partly overwritten page is read back from disk if it is not in the page cache;
 * a retired file was written, and mostly read, a moment ago.) */
int imc_write_pooled_file(const char *pooled, const char *temporary, const char *final, const char *data,
                          size_t length)
{
    if (access(final, F_OK) == 0) {
        return EEXIST;
    }
    if (errno != ENOENT) {
        return errno;
    }
    if (rename(pooled, temporary) != 0) {
        return errno == ENOENT ? -1 : errno;
    }
    int fd;
    do {
        fd = open(temporary, O_WRONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int error = errno;
        unlink(temporary);
        return error;
    }
    struct stat old;
    if (fstat(fd, &old) != 0 || (old.st_size > (off_t)length && ftruncate(fd, (off_t)length) != 0)) {
        int error = errno;
        close(fd);
        unlink(temporary);
        return error;
    }
    return fill_and_place(fd, temporary, final, data, length);
}
