% rebase('base.tpl', title=_('My account'), back_path='/account')
<h1>{{_('My account')}}</h1>
<p>{{ctx.user.name}} ({{_(ctx.user.role)}})</p>
% if done:
<p class="notice" id="password-changed">{{_('Password changed. Your other sessions were signed out.')}}</p>
% end
% for err in errors:
<p class="error" role="alert">{{err}}</p>
% end
<form method="post" action="/account/password" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Current password')}} <input type="password" name="current" autocomplete="current-password" required></label>
<label>{{_('New password')}} <input type="password" name="new" autocomplete="new-password" required minlength="10"></label>
<label>{{_('New password again')}} <input type="password" name="again" autocomplete="new-password" required minlength="10"></label>
<button type="submit">{{_('Change password')}}</button>
</form>
