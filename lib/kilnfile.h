/*
 * The Kilnfile: a declarative description of an image, one instruction a
 * line, so that an image is reproducible from version control
 * (`kiln build -f Kilnfile`; reference in docs/image-format.md):
 *
 *     # comment
 *     PROGRAM ./examples/httpd     exactly once; a host path or a name on PATH
 *     ARGS -r /srv -p 8080         the program's arguments (appended)
 *     ENV KEY=VALUE ...            environment entries
 *     FILE ./index.html /srv/index.html
 *     DIR ./site /srv              a host directory tree at a guest path
 *     WORKDIR /srv                 at most once
 *     EXPOSE 8080/tcp ...          ports the program listens on
 *     MEMORY 64M                   at most once
 *     TAG web:1 ...                tags for the built image
 *
 * Instruction names are case-insensitive.  The rest of a line is split
 * into words like a shell's simple words: blanks separate, '...' is
 * literal, "..." allows \" \\ \$ \` escapes, a backslash outside quotes
 * escapes the next character, a '#' that starts a word starts a comment
 * (a#b is a word); nothing is expanded, and lines do not continue.  Relative
 * host paths are relative to the directory the Kilnfile is in, not the current
 * one.
 */
#ifndef KILN_KILNFILE_H
#define KILN_KILNFILE_H

#include <stddef.h>

#include "image.h"
#include "util.h"

/*
 * Parses Kilnfile text into spec (initialized by the caller): sets
 * program, workdir and memory_mib, appends to args, env, files, dirs,
 * ports and tags (so a caller can add its own afterwards).  name is how
 * messages call the file ("Kilnfile:7: unknown instruction 'COPYY'"); dir
 * (absolute) is what relative host paths are joined to.  The program is
 * stored as an absolute path when it contains a '/', else as the bare name
 * for the caller to search in $PATH.  Files and dirs are stored as
 * "HOST:GUEST" with HOST absolute, as image_build takes them.  Tags, ports,
 * memory sizes, env entries and guest paths are validated here, with the
 * line number in the message.  -1 + err on the first bad line.
 */
int kilnfile_parse(const char *text, const char *name, const char *dir,
		   struct image_build_spec *spec, char *err, size_t errlen);

/* Reads the Kilnfile at path and parses it with kilnfile_parse(), paths
 * relative to the real directory of path; messages name it as path. */
int kilnfile_load(const char *path, struct image_build_spec *spec, char *err,
		  size_t errlen);

/* Splits s into shell-like words (rules above), appended to words.  -1 +
 * err on an unterminated quote or a trailing backslash. */
int kilnfile_words(const char *s, struct strv *words, char *err, size_t errlen);

#endif /* KILN_KILNFILE_H */
