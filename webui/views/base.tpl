<!doctype html>
<html lang="{{'zh-CN' if ctx.lang == 'zh_CN' else 'en'}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{ctx.csrf_token}}">
<title>{{title}} · ccbox</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header>
<span class="brand">ccbox {{_('Call center')}}</span>
% if ctx.cur is not None:
<nav>
<a href="/">{{_('Dashboard')}}</a>
% if ctx.can('desk'):
<a href="/desk" id="nav-desk">{{_('Agent desk')}}</a>
% end
% if ctx.can('live.view'):
<a href="/live" id="nav-live">{{_('Live view')}}</a>
% end
% if ctx.can('wallboard.view'):
<a href="/wallboard" id="nav-wallboard">{{_('Wallboard')}}</a>
% end
% if ctx.can('extensions.view'):
<a href="/extensions" id="nav-extensions">{{_('Extensions')}}</a>
% end
% if ctx.can('cdrs.view'):
<a href="/cdrs" id="nav-cdrs">{{_('Call records')}}</a>
% end
% if ctx.can('site.view'):
<a href="/admin" id="nav-admin">{{_('Configuration')}}</a>
% end
% if ctx.can('users.admin'):
<a href="/users" id="nav-users">{{_('Users')}}</a>
% end
% if ctx.can('oplog.view'):
<a href="/oplog">{{_('Operation log')}}</a>
% end
% if ctx.can('status.view'):
<a href="/status" id="nav-status">{{_('System status')}}</a>
% end
% if ctx.can('tokens.admin'):
<a href="/tokens" id="nav-tokens">{{_('API tokens')}}</a>
% end
</nav>
<a class="who" href="/account" id="nav-account">{{ctx.user.name}} ({{_(ctx.user.role)}})</a>
<form method="post" action="/lang" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<input type="hidden" name="back" value="{{here or back_path}}">
% other = 'en' if ctx.lang == 'zh_CN' else 'zh_CN'
<button name="lang" value="{{other}}" id="lang-switch">{{'English' if other == 'en' else '中文'}}</button>
</form>
<form method="post" action="/signout" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button id="signout">{{_('Sign out')}}</button>
</form>
% else:
<nav><a href="?lang={{'en' if ctx.lang == 'zh_CN' else 'zh'}}" id="lang-switch">{{'English' if ctx.lang == 'zh_CN' else '中文'}}</a></nav>
% end
</header>
<main>
{{!base}}
</main>
</body>
</html>
