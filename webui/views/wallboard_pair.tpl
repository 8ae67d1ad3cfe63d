% rebase('base.tpl', title=_('Wallboard'), back_path='/wallboard')
<h1>{{_('Pair this screen as a wallboard')}}</h1>
<p>{{_('An admin creates a wallboard token on the API tokens page; enter it here once. The screen then shows the wallboard without anyone signing in.')}}</p>
% if error:
<p class="error" role="alert" id="pair-error">{{error}}</p>
% end
<form method="post" action="/wallboard/pair" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Wallboard token')}} <input name="token" id="token" autocomplete="off" required></label>
<button type="submit" id="pair">{{_('Pair')}}</button>
</form>
