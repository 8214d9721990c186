# bash completion for furet(1). make install puts it in
# $(PREFIX)/share/bash-completion/completions/furet, where bash-completion
# loads it on first use; or source it from ~/.bashrc.
#
# Completes the command, then its options (after "-"), a directory after -i,
# and the paths each command reads: directories and .txt/.md/.jsonl files
# for index, any file for batch and eval. Self-contained: it needs bash only,
# not the bash-completion package's helpers.

_furet_paths()
{
	# $1: "docs" for directories and the files furet index reads, else any
	# file; $2: the word to complete. Plain globs, no extglob needed.
	local cur=$2 IFS=$'\n' ext
	if [[ $1 == docs ]]; then
		COMPREPLY+=($(compgen -d -- "$cur"))
		for ext in '[tT][xX][tT]' '[mM][dD]' '[jJ][sS][oO][nN][lL]'; do
			COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
		done
	else
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
	compopt -o filenames 2>/dev/null
}

_furet()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local commands="index search batch eval analyze stats check compact"
	local ranking="--k1 --b --w-title --w-section --w-fold --w-typo --w-prox
		--w-phrase --w-cover --w-doc --b-doc"
	local cmd="" i opts

	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ " $commands " == *" ${COMP_WORDS[i]} "* ]]; then
			cmd=${COMP_WORDS[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case $prev in
	-i)
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return
		;;
	-n|--offset|--k1|--b|--w-*|--b-doc|--threads|--memory)
		return # a number (or a size)
		;;
	esac
	case $cmd in
	index) opts="-i -q --json --rebuild --no-wait --threads --memory --help" ;;
	search) opts="-i -n --offset --json --explain --help $ranking" ;;
	batch) opts="-i -n --help $ranking" ;;
	eval) opts="--json --help" ;;
	analyze) opts="--explain --json --help" ;;
	stats | check | compact) opts="-i --json --help" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $cmd in
	index) _furet_paths docs "$cur" ;;
	batch | eval) _furet_paths any "$cur" ;;
	esac
}

complete -F _furet furet
