# Shell helpers shared by scripts/mailstack.sh and scripts/mailstack-selftest.sh (sourced).

# alive PID: the process exists and is not a zombie. The daemons are re-parented to PID 1, which
# here reaps its zombies only every few seconds, so /proc/PID alone says nothing.
alive() {
    local line
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    line=${line##*) }
    [[ ${line:0:1} != [ZX] ]]
}
