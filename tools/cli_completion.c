/*
 * strait completion bash|zsh: prints a shell completion script.
 *
 * The scripts know no command or option themselves: they read them from strait's own
 * --help texts at completion time (the "Commands:" and "Subcommands:" lists, and every
 * --option a help text mentions), so completion can never drift from the tool.
 */
#include <string.h>

#include "tools/cli.h"

static void usage_completion(FILE *out)
{
    fputs("Usage: strait completion SHELL\n"
          "\n"
          "Prints a completion script for SHELL (bash or zsh) on stdout. Commands,\n"
          "subcommands and options are read from strait's --help texts when you press\n"
          "Tab, so the script never goes stale.\n"
          "\n"
          "Install:\n"
          "  bash  strait completion bash > ~/.local/share/bash-completion/completions/strait\n"
          "        (or: source <(strait completion bash) in ~/.bashrc)\n"
          "  zsh   strait completion zsh > \"${fpath[1]}/_strait\"  (then restart zsh)\n"
          "        (or: source <(strait completion zsh) in ~/.zshrc)\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  source <(strait completion bash)\n", out);
}

/* Shared by both shells: the words that may follow the words typed so far. */
static const char helper[] =
    "__strait_words() {\n"
    "    # $@: the words typed after \"strait\", before the one being completed\n"
    "    local cmd=\"\" sub=\"\" w\n"
    "    for w in \"$@\"; do\n"
    "        case \"$w\" in -*) continue ;; esac\n"
    "        if [ -z \"$cmd\" ]; then cmd=$w; elif [ -z \"$sub\" ]; then sub=$w; fi\n"
    "    done\n"
    "    if [ -z \"$cmd\" ]; then\n"
    "        strait --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \\([a-z][a-z-]*\\) "
    ".*/\\1/p'\n"
    "        strait --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u\n"
    "        return\n"
    "    fi\n"
    "    local subs\n"
    "    subs=$(strait \"$cmd\" --help 2>/dev/null |\n"
    "        sed -n '/^Subcommands:/,/^$/s/^  \\([a-z][a-z-]*\\) .*/\\1/p')\n"
    "    if [ -n \"$subs\" ] && [ -z \"$sub\" ]; then\n"
    "        printf '%s\\n' $subs\n"
    "        return\n"
    "    fi\n"
    "    if [ -n \"$subs\" ]; then\n"
    "        strait \"$cmd\" \"$sub\" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort "
    "-u\n"
    "    else\n"
    "        strait \"$cmd\" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u\n"
    "    fi\n"
    "}\n";

static const char bash_script[] =
    "_strait() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]}\n"
    "    case \"${COMP_WORDS[COMP_CWORD-1]}\" in\n"
    "    --command-config | --file | --data-dir) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
    "    esac\n"
    "    COMPREPLY=($(compgen -W \"$(__strait_words \"${COMP_WORDS[@]:1:COMP_CWORD-1}\")\" -- "
    "\"$cur\"))\n"
    "}\n"
    "complete -F _strait strait\n";

static const char zsh_script[] =
    "_strait() {\n"
    "    local -a words_so_far candidates\n"
    "    words_so_far=(${words[2,CURRENT-1]})\n"
    "    case \"${words[CURRENT-1]}\" in\n"
    "    --command-config | --file | --data-dir) _files; return ;;\n"
    "    esac\n"
    "    candidates=(${(f)\"$(__strait_words \"${words_so_far[@]}\")\"})\n"
    "    compadd -a candidates\n"
    "}\n"
    "if [ \"$funcstack[1]\" = _strait ]; then _strait \"$@\"; else compdef _strait strait; fi\n";

int cli_completion_main(cli_ctx *c, int argc, char **argv)
{
    const char *shell = NULL;
    int rc;
    c->prog = "strait completion";
    c->usage = usage_completion;
    if (cli_parse_simple(c, argc, argv, "SHELL (bash or zsh)", &shell, &rc))
        return rc;
    if (c->json)
        return cli_usage_error(c, "--json: a completion script is shell code, not JSON");
    if (strcmp(shell, "bash") == 0) {
        fputs("# strait completion for bash: source it, or put it in bash-completion's "
              "directory\n",
              stdout);
        fputs(helper, stdout);
        fputs(bash_script, stdout);
    } else if (strcmp(shell, "zsh") == 0) {
        fputs("#compdef strait\n", stdout);
        fputs(helper, stdout);
        fputs(zsh_script, stdout);
    } else {
        return cli_usage_error(c, "unknown shell \"%s\" (bash or zsh)", shell);
    }
    return CLI_OK;
}
