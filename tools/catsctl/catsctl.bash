# SPDX-License-Identifier: BSD-3-Clause
# bash completion for catsctl (issue 21). `meson install` puts it in
# <datadir>/bash-completion/completions/catsctl, where bash-completion
# loads it the first time catsctl is completed.
#
# The command tree below is main.cpp's, written out: tests/ops/
# test_completion.py fails when `catsctl ... --help` lists a command or an
# option that is missing here. Instance and service ids, SIDs and
# addresses are left plain; `sid add` completes its iproute2-style
# keywords (behavior, next-hop) and the behaviours.

# The subcommands of each command that has them.
_catsctl_subcommands()
{
    case $1 in
        "") echo "service instance flow peer stats dataplane neighbor port route sid policy monitor" ;;
        service | flow | peer | neighbor | port | route | policy) echo "list" ;;
        instance) echo "add del drain undrain set" ;;
        sid) echo "add del list" ;;
        dataplane) echo "status" ;;
    esac
}

_catsctl()
{
    local cur prev words cword split
    _init_completion -s || return

    # catsctl's own options; CLI11 accepts them after any command too.
    local global="-s --socket -j --json -h --help"
    local metrics="--score --load --free-capacity --latency-us --bandwidth-kbps --compute-types --weight"

    # The value of an option that takes one.
    case $prev in
        -s | --socket)
            _filedir
            return
            ;;
        --compute-types)  # a comma list
            local done=""
            [[ $cur == *,* ]] && done=${cur%,*},
            mapfile -t COMPREPLY < <(compgen -P "$done" -W "cpu gpu npu fpga" -- "${cur##*,}")
            compopt -o nospace
            return
            ;;
        --type)
            mapfile -t COMPREPLY < <(compgen -W "instance table link neighbor drops lost" -- "$cur")
            return
            ;;
        --sid | --name | --score | --load | --free-capacity | --latency-us | --bandwidth-kbps | --weight | \
            --service | --instance | --limit | --count | --duration)
            return
            ;;
    esac
    $split && return

    # The command so far ("instance add"), and the arguments after it.
    local cmd="" nargs=0 i w
    local -a args=()
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            -s | --socket | --sid | --name | --score | --load | --free-capacity | --latency-us | \
                --bandwidth-kbps | --compute-types | --weight | --service | --instance | --limit | \
                --count | --duration | --type)
                ((i++))  # and its value
                ;;
            -*) ;;
            *)
                if ((nargs == 0)) && [[ " $(_catsctl_subcommands "$cmd") " == *" $w "* ]]; then
                    cmd+="${cmd:+ }$w"
                else
                    ((nargs++))
                    args+=("$w")
                fi
                ;;
        esac
    done

    # A command with subcommands: them, or catsctl's options.
    local subs
    subs=$(_catsctl_subcommands "$cmd")
    if [[ -n $subs ]]; then
        ((nargs == 0)) || return  # a word that is no command of it
        if [[ $cur == -* ]]; then
            [[ -z $cmd ]] && global+=" --version"
            mapfile -t COMPREPLY < <(compgen -W "$global" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
        fi
        return
    fi

    # sid add SID behavior BEH [next-hop ADDR]: after the SID, the keywords
    # not given yet (next-hop once the behaviour needs one), then their
    # values; options once they are all there.
    if [[ $cmd == "sid add" && $cur != -* ]] && ((nargs > 0)); then
        case $prev in
            behavior)
                mapfile -t COMPREPLY < <(compgen -W "End End.X End.DX6 End.DT6" -- "$cur")
                return
                ;;
            next-hop) return ;;
        esac
        local kw="" beh="" seen=" ${args[*]:1} "
        for ((i = 2; i < nargs; i++)); do
            [[ ${args[i - 1]} == behavior ]] && beh=${args[i],,}
        done
        [[ $seen == *" behavior "* ]] || kw+=" behavior"
        case $beh in
            end.x | end.dx6) [[ $seen == *" next-hop "* ]] || kw+=" next-hop" ;;
        esac
        if [[ -n $kw ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$kw" -- "$cur")
            return
        fi
    fi

    # A command: its options, once its positional arguments are there (or
    # when an option is being typed).
    local opts="" positionals=0
    case $cmd in
        "instance add") opts="--sid --name $metrics" positionals=2 ;;
        "instance set") opts="--sid $metrics" positionals=2 ;;
        "instance del" | "instance drain" | "instance undrain") positionals=2 ;;
        "sid add" | "sid del") positionals=1 ;;
        "flow list") opts="--service --instance --limit" ;;
        monitor) opts="--count --duration --type" ;;
    esac
    if [[ $cur == -* ]] || ((nargs >= positionals)); then
        mapfile -t COMPREPLY < <(compgen -W "$opts $global" -- "$cur")
    fi
} &&
    complete -F _catsctl catsctl
