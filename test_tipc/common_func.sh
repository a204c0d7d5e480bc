#!/usr/bin/env bash
# TIPC config parsing and status helpers, sourced by every driver (test_tipc/README.md explains the formats).
# Config rules: one "key:value" per line, blank lines dropped, CR stripped, a missing final newline is fine,
# a second ':' in a line is an error (it would silently truncate the value elsewhere). Nothing here changes
# the global IFS, and every expansion is quoted.

# tipc_read_config FILE ARRAY_NAME: the non-blank lines of FILE, CR-stripped, into the array ARRAY_NAME.
tipc_read_config() {
    local file="$1" line
    local -n _lines="$2"
    _lines=()
    if [ ! -f "$file" ]; then
        echo "error: TIPC config $file not found" >&2
        return 1
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%$'\r'}"
        [ -z "${line//[[:space:]]/}" ] && continue
        _lines+=("$line")
    done < "$file"
}

# tipc_check_config FILE ARRAY_NAME: fail (naming the line) if a line has no ':' or more than one.
tipc_check_config() {
    local file="$1" i line rest
    local -n _check="$2"
    for i in "${!_check[@]}"; do
        line="${_check[$i]}"
        case "$line" in
            ==*==|"##") continue ;;
        esac
        if [[ "$line" != *:* ]]; then
            echo "error: $file line $((i + 1)) ('$line'): no ':' (expected key:value)" >&2
            return 1
        fi
        rest="${line#*:}"
        if [[ "$rest" == *:* ]]; then
            echo "error: $file line $((i + 1)) ('$line'): a second ':' (values cannot contain ':')" >&2
            return 1
        fi
    done
}

# tipc_load_config FILE COUNT WHAT: FILE's slots into the global array "lines", checked, cut to COUNT slots
# (later lines are other tools' sections); key N / value N then read slot N (0-based).
tipc_load_config() {
    tipc_read_config "$1" lines || return 1
    if [ "${#lines[@]}" -lt "$2" ]; then
        echo "error: $1 has ${#lines[@]} non-blank lines; $3 needs $2" >&2
        return 1
    fi
    lines=("${lines[@]:0:$2}")
    tipc_check_config "$1" lines
}
key() { tipc_key "${lines[$1]}"; }
value() { tipc_value "${lines[$1]}"; }

# tipc_key LINE / tipc_value LINE: the text before / after the first ':'.
tipc_key() { printf '%s' "${1%%:*}"; }
tipc_value() {
    case "$1" in
        *:*) printf '%s' "${1#*:}" ;;
        *) printf '' ;;
    esac
}

# tipc_is_null VALUE: true for null, an empty value or a single space.
tipc_is_null() { [ "$1" = "null" ] || [ -z "$1" ] || [ "$1" = " " ]; }

# tipc_param KEY VALUE: "KEY=VALUE", or nothing when the key or the value is null.
tipc_param() {
    if tipc_is_null "$1" || tipc_is_null "$2"; then
        printf ''
    else
        printf '%s=%s' "$1" "$2"
    fi
}

# tipc_mode_value "mode1=v1|mode2=v2" MODE: the value listed for MODE, or nothing.
tipc_mode_value() {
    local item
    local -a items
    IFS='|' read -r -a items <<< "$1"
    for item in "${items[@]}"; do
        if [ "${item%%=*}" = "$2" ]; then
            printf '%s' "${item#*=}"
            return 0
        fi
    done
    printf ''
}

# tipc_split "a|b|c" ARRAY_NAME: the '|' alternatives of a value.
tipc_split() {
    local -n _items="$2"
    IFS='|' read -r -a _items <<< "$1"
}

# tipc_status RC MODEL COMMAND LOG STATUS_FILE: one plain-text status line, whitespace runs collapsed.
tipc_status() {
    local rc="$1" model="$2" command="$3" log="$4" status_file="$5" word line
    command=$(printf '%s' "$command" | tr -s '[:space:]' ' ')
    command="${command# }"
    command="${command% }"
    if [ "$rc" -eq 0 ]; then
        word="Run successfully"
    else
        word="Run failed"
    fi
    line="$word with command - $model - $command - $log"
    printf '%s\n' "$line" >> "$status_file"
    if [ "$rc" -eq 0 ]; then
        printf '\033[32m%s\033[0m\n' "$line"
    else
        printf '\033[31m%s\033[0m\n' "$line"
    fi
}

# tipc_run MODEL STATUS_FILE LOG COMMAND: run COMMAND (word-split like a shell line, no globbing) with stdout
# and stderr to LOG; its own exit code decides the status line. Prints the log's tail when it failed.
tipc_run() {
    local model="$1" status_file="$2" log="$3" command="$4" rc
    mkdir -p "$(dirname "$log")"
    set -f
    eval "$command" > "$log" 2>&1
    rc=$?
    set +f
    tipc_status "$rc" "$model" "$command > $log 2>&1" "$log" "$status_file"
    if [ "$rc" -ne 0 ]; then
        tail -n 20 "$log" | sed 's/^/    | /'
    fi
    return "$rc"
}

# tipc_finish STATUS_FILE: print the summary; exit code 1 when any command of this run failed.
tipc_finish() {
    local status_file="$1" ok failed
    ok=$(grep -c '^Run successfully' "$status_file" 2>/dev/null || true)
    failed=$(grep -c '^Run failed' "$status_file" 2>/dev/null || true)
    echo "TIPC: ${ok:-0} command(s) succeeded, ${failed:-0} failed; status lines in $status_file"
    [ "${failed:-0}" -eq 0 ]
}
