/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/macro.h"

struct lane {
	struct worker *w;
	pthread_t thread;
	bool started;
	struct job *head, *tail; /* queued */
	struct job *fhead, *ftail; /* queued to go first */
	size_t pending;          /* queued + running */
};

struct worker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	bool orphaned; /* freed while a lane was stuck: the last lane out frees it */
	int alive;     /* lanes whose thread has not ended */
	int efd;
	struct lane lanes[_LANE_MAX];
	struct job *done_head, *done_tail; /* finished, for the loop */
};

static void push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct job *pop(struct job **head, struct job **tail)
{
	struct job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

/* The last lane out of a freed worker: the jobs that finished after
 * worker_free() are handed their DONE, cancelled (it only frees them; the
 * loop and its manager are gone). */
static void worker_destroy(struct worker *w)
{
	struct job *j;

	while ((j = pop(&w->done_head, &w->done_tail))) {
		j->cancelled = true;
		j->done(j);
	}
	close(w->efd);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct worker *w = l->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j;

		while (!w->stopping && !l->head && !l->fhead)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stopping)
			break;
		j = l->fhead ? pop(&l->fhead, &l->ftail) : pop(&l->head, &l->tail);
		pthread_mutex_unlock(&w->lock);

		if (!j->cancelled && !j->skipped)
			j->run(j);

		pthread_mutex_lock(&w->lock);
		l->pending--;
		push(&w->done_head, &w->done_tail, j);
		eventfd_write(w->efd, 1);
	}
	bool last = --w->alive == 0 && w->orphaned;

	pthread_mutex_unlock(&w->lock);
	if (last)
		worker_destroy(w);
	return NULL;
}

int worker_new(struct worker **ret)
{
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	for (int i = 0; i < _LANE_MAX; i++) {
		w->lanes[i].w = w;
		r = -pthread_create(&w->lanes[i].thread, NULL, lane_main, &w->lanes[i]);
		if (r < 0) {
			worker_free(w);
			return r;
		}
		w->lanes[i].started = true;
		pthread_mutex_lock(&w->lock);
		w->alive++;
		pthread_mutex_unlock(&w->lock);
	}
	*ret = w;
	return 0;
}

void worker_free(struct worker *w)
{
	bool busy[_LANE_MAX] = { 0 }, any_busy = false;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	/* Queued jobs never run: hand them back cancelled. */
	for (int i = 0; i < _LANE_MAX; i++) {
		struct job *j;

		while ((j = pop(&w->lanes[i].fhead, &w->lanes[i].ftail)) || (j = pop(&w->lanes[i].head, &w->lanes[i].tail))) {
			j->cancelled = true;
			w->lanes[i].pending--;
			push(&w->done_head, &w->done_tail, j);
		}
		/* What is left is the job the lane is running, maybe stuck in the kernel. */
		busy[i] = w->lanes[i].pending > 0;
		any_busy |= busy[i];
	}
	pthread_mutex_unlock(&w->lock);
	worker_dispatch(w);
	for (int i = 0; i < _LANE_MAX; i++) {
		if (!w->lanes[i].started)
			continue;
		if (busy[i])
			pthread_detach(w->lanes[i].thread);
		else
			pthread_join(w->lanes[i].thread, NULL);
	}
	/* A detached lane still uses the worker: the last one out frees it. */
	pthread_mutex_lock(&w->lock);
	if (any_busy && w->alive > 0) {
		w->orphaned = true;
		pthread_mutex_unlock(&w->lock);
		return;
	}
	pthread_mutex_unlock(&w->lock);
	worker_destroy(w);
}

void worker_skip_queued(struct worker *w, enum worker_lane lane)
{
	pthread_mutex_lock(&w->lock);
	for (struct job *j = w->lanes[lane].fhead; j; j = j->next)
		j->skipped = true;
	for (struct job *j = w->lanes[lane].head; j; j = j->next)
		j->skipped = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int worker_fd(const struct worker *w)
{
	return w->efd;
}

void worker_submit(struct worker *w, enum worker_lane lane, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	if (j->first)
		push(&w->lanes[lane].fhead, &w->lanes[lane].ftail, j);
	else
		push(&w->lanes[lane].head, &w->lanes[lane].tail, j);
	w->lanes[lane].pending++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

size_t worker_dispatch(struct worker *w)
{
	struct job *list, *j;
	eventfd_t v;
	size_t n = 0;

	eventfd_read(w->efd, &v);
	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	/* DONE may submit new jobs or free others: the list is ours now. */
	while ((j = list)) {
		list = j->next;
		j->next = NULL;
		j->done(j);
		n++;
	}
	return n;
}

size_t worker_pending(struct worker *w, enum worker_lane lane)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->lanes[lane].pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}
