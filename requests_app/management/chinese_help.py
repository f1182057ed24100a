"""``--help`` in Chinese first for the project's commands (issue: an office runs them).

Django adds its own options (--verbosity, --settings…) with English help, and argparse prints
"usage:", "options:" in English: ``ChineseHelpCommand`` gives them Chinese with the English
after, as the commands' own options are written ("中文 / English")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, DjangoHelpFormatter

# Django's common options (django.core.management.base.BaseCommand.create_parser).
COMMON_OPTION_HELP = {
    "help": "显示本帮助并退出 / show this help message and exit",
    "version": "显示版本并退出 / show the version and exit",
    "verbosity": "输出详细程度：0 最少，1 正常，2 详细，3 非常详细 / verbosity level",
    "settings": "使用的 settings 模块，默认取环境变量 DJANGO_SETTINGS_MODULE / settings module",
    "pythonpath": "加入 Python 路径的目录 / a directory to add to the Python path",
    "traceback": "出错时显示完整的调用栈 / show a full stack trace on errors",
    "no_color": "输出不加颜色 / do not colorize the output",
    "force_color": "强制输出颜色 / force colorized output",
    "skip_checks": "跳过系统检查 / skip system checks",
}


class ChineseHelpFormatter(DjangoHelpFormatter):
    """Django's (its common options last), saying "用法" for "usage"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="用法 / usage: ")


class ChineseHelpCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(
            prog_name, subcommand, formatter_class=ChineseHelpFormatter, **kwargs
        )
        parser._positionals.title = "参数 / arguments"
        parser._optionals.title = "选项 / options"
        for action in parser._actions:
            if action.dest in COMMON_OPTION_HELP:
                action.help = COMMON_OPTION_HELP[action.dest]
        return parser
