#!/bin/sh
# Writes keel.1 (roff) from the installed runner's own help text: every command `keel --help` lists, with its
# one-line summary. Usage: make-manpage.sh KEEL_BINARY VERSION OUT.1
set -eu
keel=$1
version=$2
exec > "$3"
cat <<HEAD
.TH KEEL 1 "2026-12-01" "keel $version" "User Commands"
.SH NAME
keel \\- versioned data, training, explanations, models, serving and monitoring from the command line
.SH SYNOPSIS
.B keel
[\\fB\\-C\\fR \\fIDIR\\fR] [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]
.SH DESCRIPTION
.B keel
is the headless runner of Keel, a workbench for tabular models. A workspace is a git repository with
.I keel.yaml
(created by \\fBkeel init\\fR); datasets, training configs, models, deployments, pipelines and monitors are versioned
files in it, and the bytes of every dataset version and artifact live in a content-addressed store under
.IR .keel/ .
Every command answers \\fB\\-\\-help\\fR with its arguments and options; \\fBkeel init \\-\\-example\\fR makes a
workspace with example data to try them on.
.SH COMMANDS
HEAD
"$keel" --help | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,2\}\)  *\(.*\)$/\1\t\3/p' | sed 's/ *\t/\t/' |
  while IFS="$(printf '\t')" read -r name summary; do
    printf '.TP\n.B keel %s\n%s\n' "$name" "$(printf '%s' "$summary" | sed 's/\\/\\\\/g; s/^\./\\\&./; s/-/\\-/g')"
  done
cat <<'TAIL'
.SH OPTIONS
.TP
.BI \-C " DIR"
Run as if started in \fIDIR\fR: the workspace is found from there upward, and relative paths are taken from there.
.TP
.B \-\-json
Machine-readable output on standard output.
.TP
.BR \-h ", " \-\-help
Help for keel, or for one command (\fBkeel data add \-\-help\fR).
.TP
.B \-\-version
Print the version.
.SH EXIT STATUS
0 on success; 1 when a command fails or a check does not pass (\fBdata validate\fR, \fBaudit verify\fR); 2 for a
usage error; 3 when \fBmonitor check\fR finds a rule that holds; 130 when cancelled. Errors go to standard error and
name the file, line and field at fault.
.SH ENVIRONMENT
.TP
.BR AWS_ACCESS_KEY_ID ", " AWS_SECRET_ACCESS_KEY ", " AWS_SESSION_TOKEN ", " AWS_PROFILE ", " AWS_REGION
Credentials and region for s3:// remotes (else \fI~/.aws/credentials\fR).
.TP
.BR PGPASSWORD
Password for a \fBtracking: postgresql://\fR store when the address carries none (or \fI~/.pgpass\fR).
.TP
.B SLURM_CONF
The Slurm configuration used by \fB\-\-executor slurm\fR.
.TP
.B KEEL_BINARY
The runner that sweeps, Slurm tasks and the workbench start for trainings.
.SH FILES
.TP
.I keel.yaml
Workspace settings: remotes, and \fBtracking\fR (a postgresql:// address for a shared tracking store).
.TP
.I .keel/
The object store, caches and the local tracking database (\fIkeel.db\fR); not versioned.
.TP
.I /usr/share/keel/examples
The example data and configs \fBkeel init \-\-example\fR uses.
.SH SEE ALSO
.BR keel-workbench (1)
TAIL
