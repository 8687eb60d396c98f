/* A group flush (an fsync of one file, or a syncfs of one file system) run by a thread of its own that
 * never takes the GIL, and that the event loop awaits through an eventfd.
 *
 * Why: an APPEND committed on the event loop waits for two flushes (its blob file, then the WAL). Each
 * was a hop through a Python worker thread: the job handed over, the GIL taken back by the worker after
 * the system call and handed again to the event loop, the result delivered through Trio's wake-up
 * socket. Profiled with the mix, those hand-offs (futex calls, each a wake-up of a thread on
 * another CPU: an inter-processor interrupt on a virtual machine) were a fifth of an APPEND's CPU. Here
 * the loop asks for a flush with one call (cffi releases the GIL around it), the flusher thread makes
 * it, and one write to an eventfd tells the loop, which reads it with its other descriptors.
 *
 * The semantics are those of ``imapcore.store.syncing.GroupSync``: a ticket (``note``) is taken right
 * after a write; a flush covers every ticket taken before the flush *started*, so every waiter that
 * arrives during one flush is served by the next single one. A flush that fails fails every ticket it
 * was meant to cover for good: after a failed fsync Linux may report the next one successful although
 * the data never reached the disk, so a later success must not acknowledge them.
 *
 * Threads that block (``imc_flusher_wait``) wait on a condition variable; the event loop polls the
 * state (``imc_flusher_state``) whenever the eventfd is readable.
 *
 * Fork: the server's workers are forked, and a child has the parent's memory but none of its threads
 * (and a condition variable with the parent's waiters in it). The pthread_atfork handlers take every
 * flusher's mutex before the fork, so that its state is whole in the child, which then starts with
 * fresh condition variables and no thread: its first request starts one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#ifndef IMC_FLUSH_FSYNC
#define IMC_FLUSH_FSYNC 0
#define IMC_FLUSH_SYNCFS 1
#endif

struct imc_flusher {
    pthread_mutex_t mutex;
    pthread_cond_t changed;  /* the flusher thread waits for work, blocking waiters for results */
    pthread_t thread;
    struct imc_flusher *next; /* every live flusher, for the fork handlers */
    int started, stopping, flushing;
    int kind;
    char *path;
    int notify_fd;           /* eventfd written after each flush */
    uint64_t noted;          /* tickets handed out */
    uint64_t wanted;         /* the highest ticket somebody waits for */
    uint64_t covered;        /* every ticket up to this one is durable... */
    uint64_t failed_lo, failed_hi; /* ...except those in (failed_lo, failed_hi]: their flush failed */
    int error;               /* errno of that failure */
    uint64_t flushes;
};
typedef struct imc_flusher imc_flusher;

static int flush_once(const imc_flusher *flusher)
{
    int flags = O_RDONLY | O_CLOEXEC;
    if (flusher->kind == IMC_FLUSH_SYNCFS)
        flags |= O_DIRECTORY;
    int fd = open(flusher->path, flags);
    if (fd < 0)
        /* No WAL file: everything was checkpointed into the database, which SQLite fsynced before it
         * removed the WAL. Nothing to flush. */
        return (errno == ENOENT && flusher->kind == IMC_FLUSH_FSYNC) ? 0 : errno;
    int result = flusher->kind == IMC_FLUSH_SYNCFS ? syncfs(fd) : fsync(fd);
    int error = result == 0 ? 0 : errno;
    close(fd);
    return error;
}

/* Caller holds the mutex. 1: durable; negative errno: its flush failed; 0: not yet known. */
static int state_locked(const imc_flusher *flusher, uint64_t ticket)
{
    if (ticket > flusher->failed_lo && ticket <= flusher->failed_hi)
        return -(flusher->error ? flusher->error : EIO);
    return ticket <= flusher->covered ? 1 : 0;
}

static uint64_t done_locked(const imc_flusher *flusher)
{
    return flusher->covered > flusher->failed_hi ? flusher->covered : flusher->failed_hi;
}

static void *run(void *argument)
{
    imc_flusher *flusher = argument;
    const uint64_t one = 1;
    pthread_mutex_lock(&flusher->mutex);
    for (;;) {
        while (!flusher->stopping && flusher->wanted <= done_locked(flusher))
            pthread_cond_wait(&flusher->changed, &flusher->mutex);
        if (flusher->stopping)
            break;
        uint64_t target = flusher->noted; /* every write noted before this point is complete */
        flusher->flushing = 1;
        pthread_mutex_unlock(&flusher->mutex);
        int error = flush_once(flusher);
        pthread_mutex_lock(&flusher->mutex);
        flusher->flushing = 0;
        if (error == 0) {
            if (target > flusher->covered)
                flusher->covered = target;
            flusher->flushes++;
        } else if (target > done_locked(flusher)) {
            /* (covered, target] failed. The range only grows, from the first failure on: a ticket a
             * later flush covered may then be reported failed (refused although durable: a duplicate if
             * the client retries, never a loss), but no failed ticket is ever reported durable. */
            if (flusher->failed_hi == 0)
                flusher->failed_lo = flusher->covered;
            flusher->failed_hi = target;
            flusher->error = error;
        }
        pthread_cond_broadcast(&flusher->changed);
        pthread_mutex_unlock(&flusher->mutex);
        ssize_t ignored = write(flusher->notify_fd, &one, sizeof one); /* cannot fill: a 64-bit counter */
        (void)ignored;
        pthread_mutex_lock(&flusher->mutex);
    }
    pthread_mutex_unlock(&flusher->mutex);
    return NULL;
}

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER; /* guards ``flushers`` */
static imc_flusher *flushers;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&registry);
    for (imc_flusher *flusher = flushers; flusher != NULL; flusher = flusher->next)
        pthread_mutex_lock(&flusher->mutex);
}

static void after_fork_in_parent(void)
{
    for (imc_flusher *flusher = flushers; flusher != NULL; flusher = flusher->next)
        pthread_mutex_unlock(&flusher->mutex);
    pthread_mutex_unlock(&registry);
}

static void after_fork_in_child(void)
{
    for (imc_flusher *flusher = flushers; flusher != NULL; flusher = flusher->next) {
        pthread_cond_init(&flusher->changed, NULL);
        flusher->started = flusher->flushing = flusher->stopping = 0;
        pthread_mutex_unlock(&flusher->mutex); /* this thread took it in before_fork */
    }
    pthread_mutex_unlock(&registry);
}

static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

imc_flusher *imc_flusher_new(int kind, const char *path)
{
    pthread_once(&handlers_once, install_fork_handlers);
    imc_flusher *flusher = calloc(1, sizeof *flusher);
    if (flusher == NULL)
        return NULL;
    flusher->path = strdup(path);
    flusher->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (flusher->path == NULL || flusher->notify_fd < 0) {
        free(flusher->path);
        if (flusher->notify_fd >= 0)
            close(flusher->notify_fd);
        free(flusher);
        return NULL;
    }
    flusher->kind = kind;
    pthread_mutex_init(&flusher->mutex, NULL);
    pthread_cond_init(&flusher->changed, NULL);
    pthread_mutex_lock(&registry);
    flusher->next = flushers;
    flushers = flusher;
    pthread_mutex_unlock(&registry);
    return flusher;
}

int imc_flusher_fd(imc_flusher *flusher)
{
    return flusher->notify_fd;
}

/* Caller holds the mutex. The thread is started on first use (in a forked child too). 0, or an errno. */
static int ensure_thread_locked(imc_flusher *flusher)
{
    if (flusher->started)
        return 0;
    int error = pthread_create(&flusher->thread, NULL, run, flusher);
    if (error)
        return error;
    flusher->started = 1;
    return 0;
}

uint64_t imc_flusher_note(imc_flusher *flusher)
{
    pthread_mutex_lock(&flusher->mutex);
    uint64_t ticket = ++flusher->noted;
    pthread_mutex_unlock(&flusher->mutex);
    return ticket;
}

/* Whether a noted write is not known durable yet (neither covered nor failed). */
int imc_flusher_pending(imc_flusher *flusher)
{
    pthread_mutex_lock(&flusher->mutex);
    int pending = flusher->covered < flusher->noted;
    pthread_mutex_unlock(&flusher->mutex);
    return pending;
}

uint64_t imc_flusher_flushes(imc_flusher *flusher)
{
    pthread_mutex_lock(&flusher->mutex);
    uint64_t flushes = flusher->flushes;
    pthread_mutex_unlock(&flusher->mutex);
    return flushes;
}

int imc_flusher_state(imc_flusher *flusher, uint64_t ticket)
{
    pthread_mutex_lock(&flusher->mutex);
    int state = state_locked(flusher, ticket);
    pthread_mutex_unlock(&flusher->mutex);
    return state;
}

/* Caller holds the mutex. The state of ``ticket``; when not known yet, a flush covering it is asked
 * for (the thread started if need be). A failure to start the thread is returned as its errno made
 * negative, like a failed flush. */
static int request_locked(imc_flusher *flusher, uint64_t ticket)
{
    int state = state_locked(flusher, ticket);
    if (state == 0) {
        int error = ensure_thread_locked(flusher);
        if (error)
            return -error;
        if (ticket > flusher->wanted) {
            flusher->wanted = ticket;
            pthread_cond_broadcast(&flusher->changed);
        }
    }
    return state;
}

/* Ask for a flush covering ``ticket`` without waiting: the state (1, negative errno, or 0 when a flush
 * will come and the eventfd will say so). */
int imc_flusher_request(imc_flusher *flusher, uint64_t ticket)
{
    pthread_mutex_lock(&flusher->mutex);
    int state = request_locked(flusher, ticket);
    pthread_mutex_unlock(&flusher->mutex);
    return state;
}

/* Block until ``ticket`` is durable (0) or its flush failed (the errno). */
int imc_flusher_wait(imc_flusher *flusher, uint64_t ticket)
{
    pthread_mutex_lock(&flusher->mutex);
    int state = request_locked(flusher, ticket);
    while (state == 0) {
        pthread_cond_wait(&flusher->changed, &flusher->mutex);
        state = state_locked(flusher, ticket);
    }
    pthread_mutex_unlock(&flusher->mutex);
    return state > 0 ? 0 : -state;
}

/* Stop the thread (after the flush it may be making) and release everything. */
void imc_flusher_free(imc_flusher *flusher)
{
    pthread_mutex_lock(&registry);
    for (imc_flusher **link = &flushers; *link != NULL; link = &(*link)->next) {
        if (*link == flusher) {
            *link = flusher->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry);
    pthread_mutex_lock(&flusher->mutex);
    int joinable = flusher->started;
    flusher->stopping = 1;
    pthread_cond_broadcast(&flusher->changed);
    pthread_mutex_unlock(&flusher->mutex);
    if (joinable)
        pthread_join(flusher->thread, NULL);
    close(flusher->notify_fd);
    pthread_cond_destroy(&flusher->changed);
    pthread_mutex_destroy(&flusher->mutex);
    free(flusher->path);
    free(flusher);
}
